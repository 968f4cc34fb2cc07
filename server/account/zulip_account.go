package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// LinkMethod is how a link was proven.
type LinkMethod string

// The proofs a link can rest on.
const (
	// LinkVerifiedEmail: the Mattermost email was verified and equals the
	// Zulip account's real address.
	LinkVerifiedEmail LinkMethod = "verified_email"
	// LinkCode: the user typed a code the bot sent to the Zulip account.
	LinkCodeMethod LinkMethod = "code"
	// LinkAdmin: a system admin ran /account link-all.
	LinkAdmin LinkMethod = "admin"
	// LinkScanMethod: the scan linked a verified Mattermost email to the
	// Zulip account with that address, nobody asking. Changes made in Zulip
	// elsewhere are offered to such users, never applied: a Zulip
	// administrator could otherwise give a free Zulip account someone's
	// address, wait for the link, then move their Mattermost email.
	LinkScanMethod LinkMethod = "scan"
)

// Link says which Zulip account belongs to a Mattermost account. Every
// change goes to the linked Zulip account, addressed by its id.
type Link struct {
	UserID      string     `json:"user_id"`
	ZulipUserID int        `json:"zulip_user_id"`
	Method      LinkMethod `json:"method"`
	LinkedBy    string     `json:"linked_by,omitempty"` // the admin, for LinkAdmin
	LinkedAt    time.Time  `json:"linked_at"`
	// AgreedEmail is the address both systems last agreed on: set when the
	// link is made with the same address on both sides, and moved by every
	// change Account Sync makes, before it acts, so that its own changes
	// are never taken for changes made elsewhere. Empty when not known (a
	// link made before this field, or made while the addresses differed).
	AgreedEmail string `json:"agreed_email,omitempty"`
}

// zulipTarget is the Zulip account a change applies to.
type zulipTarget struct {
	userID int
	// alreadyChanged is true when Zulip already has the new address for
	// this very account (a change finished there earlier).
	alreadyChanged bool
}

// zulipAccount finds the caller's Zulip account: the linked one (b, as
// read under the user's lock), or, for a user without a link, one proven
// by a verified matching email (which links it). Nothing else is ever
// taken as the caller's.
func (s *Service) zulipAccount(ctx context.Context, user User, changeID string, b Link, linked bool) (zulipTarget, *Failure) {
	if !linked {
		zu, f := s.proveByVerifiedEmail(ctx, user)
		if f != nil {
			return zulipTarget{}, f
		}
		return zulipTarget{userID: zu.ID}, nil
	}
	zu, err := s.zc.GetUserByID(ctx, b.ZulipUserID)
	switch {
	case isNoSuchUser(err):
		return zulipTarget{}, newFailure(CodeZulipAccountInactive, err)
	case err != nil:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}
	if !zu.IsActive || zu.IsBot {
		return zulipTarget{}, newFailure(CodeZulipAccountInactive, nil)
	}
	target := zulipTarget{userID: zu.ID}
	if strings.EqualFold(zu.RealAddress(), user.Email) {
		return target, nil // the email points at the linked account itself
	}
	// The linked account has another address: make sure the Mattermost email
	// does not point at someone else's Zulip account. Zulip's API cannot
	// look up an address holding "/" (nor can anyone change one by it).
	if strings.Contains(user.Email, "/") {
		return target, nil
	}
	other, err := s.zc.GetUser(ctx, user.Email)
	switch {
	case err == nil && other.ID != zu.ID:
		s.opts.Logger.Warn("account sync: the user's Mattermost email belongs to another Zulip account than the linked one; refusing",
			"user_id", user.ID, "change_id", changeID, "linked_zulip_user_id", zu.ID, "email_zulip_user_id", other.ID)
		return zulipTarget{}, newFailure(CodeZulipAccountMismatch, nil)
	case err == nil, isNoSuchUser(err):
		return target, nil
	default:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}
}

// proveByVerifiedEmail links the user to the Zulip account whose real
// address equals the user's verified Mattermost email, if it is an active
// human account that nobody else is linked to.
func (s *Service) proveByVerifiedEmail(ctx context.Context, user User) (zulip.User, *Failure) {
	if !user.EmailVerified {
		return zulip.User{}, newFailure(CodeNotLinked, errors.New("the Mattermost email is not verified"))
	}
	if strings.Contains(user.Email, "/") {
		return zulip.User{}, newFailure(CodeNotLinked, errors.New(`Zulip cannot look up an address holding "/"`))
	}
	zu, err := s.zc.GetUser(ctx, user.Email)
	switch {
	case isNoSuchUser(err):
		return zulip.User{}, newFailure(CodeNotLinked, errors.New("no Zulip account under the Mattermost email"))
	case err != nil:
		return zulip.User{}, zulipFailure(err, CodeZulipRejected)
	case !strings.EqualFold(zu.RealAddress(), user.Email):
		// Found by the id-based user{ID}@host address, or Zulip hides the
		// real one: no proof.
		return zulip.User{}, newFailure(CodeNotLinked, errors.New("the Zulip account's real address is not the Mattermost email"))
	case !zu.IsActive || zu.IsBot:
		return zulip.User{}, newFailure(CodeNotLinked, errors.New("the Zulip account is deactivated or a bot"))
	}
	err = s.opts.Links.AddLink(Link{UserID: user.ID, ZulipUserID: zu.ID, Method: LinkVerifiedEmail, LinkedAt: s.opts.Now().UTC(), AgreedEmail: user.Email})
	switch {
	case errors.Is(err, ErrAlreadyLinked):
		return zulip.User{}, newFailure(CodeZulipLinkedElsewhere, err)
	case err != nil:
		return zulip.User{}, newFailure(CodeInternal, err)
	}
	s.opts.Logger.Info("account sync: linked a Mattermost account to its Zulip account by verified email", "user_id", user.ID, "zulip_user_id", zu.ID)
	return zu, nil
}

// isNoSuchUser tells a lookup that found nobody. A BAD_REQUEST whose text
// the client did not recognise (a localised server) can only mean that for
// a lookup.
func isNoSuchUser(err error) bool {
	r := zulip.ReasonOf(err)
	return err != nil && (r == zulip.ReasonNoSuchUser || r == zulip.ReasonBadRequest)
}
