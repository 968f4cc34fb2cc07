package account

import (
	"context"
	"errors"
	"strings"
)

// autoLink links a user the scan found without a link whose verified
// Mattermost email is the real address of an active human Zulip account
// nobody is linked to (a would_link row): exactly where /account email
// would link them (proveByVerifiedEmail), so that following changes made
// elsewhere needs no admin step. Under the user's lock it reads the user
// again: still verified, active, human and at that address. Zulip's
// account is as the scan read it a moment ago; the link store refuses a
// user already linked and an account someone else is linked to. SSO and LDAP users
// are linked too: their verified address comes from the directory, and
// their sign-ins are what forwards most changes. Nothing else is ever
// linked here: unverified emails and every other row are left to the
// report.
func (s *Service) autoLink(ctx context.Context, row DriftRow) bool {
	if row.Kind != DriftWouldLink || row.ZulipUserID == 0 || row.ZulipEmail == "" {
		return false
	}
	unlock, ok, err := s.opts.Locker.TryLock(ctx, row.UserID)
	if err != nil || !ok {
		return false // busy: the next scan looks again
	}
	defer unlock()
	if unlinked, err := s.opts.Links.Unlinked(row.UserID); err != nil || unlinked {
		return false // the user chose to be unlinked: only they link again
	}
	user, err := s.mm.GetUser(row.UserID)
	if err != nil || user.IsBot || user.Deactivated || !user.EmailVerified ||
		!strings.EqualFold(user.Email, row.ZulipEmail) || strings.Contains(user.Email, "/") {
		return false
	}
	err = s.opts.Links.AddLink(Link{UserID: user.ID, ZulipUserID: row.ZulipUserID, Method: LinkScanMethod, LinkedAt: s.opts.Now().UTC(), AgreedEmail: user.Email})
	switch {
	case errors.Is(err, ErrAlreadyLinked):
		return false
	case err != nil:
		s.opts.Logger.Error("account sync: the scan could not save a link", "user_id", user.ID, "zulip_user_id", row.ZulipUserID, "error", err.Error())
		return false
	}
	s.opts.Logger.Info("account sync: the scan linked a Mattermost account to its Zulip account by verified email", "user_id", user.ID, "zulip_user_id", row.ZulipUserID)
	return true
}
