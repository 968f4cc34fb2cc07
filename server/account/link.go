package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// The one-time codes of /account link.
const (
	LinkCodeTTL        = 10 * time.Minute
	LinkCodeTries      = 5
	MaxLinkCodesPerDay = 5               // codes sent per user in 24 hours
	LinkCodeResend     = 1 * time.Minute // between two codes
	// MaxZulipCodesPerDay bounds the codes sent to one Zulip account in 24
	// hours, whoever asks, so that many Mattermost accounts together can
	// neither flood its owner with messages nor multiply the guesses.
	MaxZulipCodesPerDay = 5
)

// LinkCode is a pending /account link: a code the bot sent to a Zulip
// account. Only its hash is stored.
type LinkCode struct {
	ZulipUserID  int       `json:"zulip_user_id"`
	ZulipAddress string    `json:"zulip_address"` // as the user gave it
	Hash         string    `json:"hash,omitempty"`
	ExpiresAt    time.Time `json:"expires_at"`
	TriesLeft    int       `json:"tries_left"`
	// Sent is read only from records saved before the count got its own
	// record (LinkCodes.CodesSent), which linking does not clear.
	Sent []time.Time `json:"sent,omitempty"`
}

// LinkOutcome is what a link command did.
type LinkOutcome string

// Outcomes of /account link and /account unlink.
const (
	LinkOutcomeCodeSent      LinkOutcome = "code_sent"
	LinkOutcomeLinked        LinkOutcome = "linked"
	LinkOutcomeAlreadyLinked LinkOutcome = "already_linked"
	LinkOutcomeWrongCode     LinkOutcome = "wrong_code"
	LinkOutcomeCodeExpired   LinkOutcome = "code_expired"
	LinkOutcomeNoCode        LinkOutcome = "no_code"
	LinkOutcomeTooManyCodes  LinkOutcome = "too_many_codes"
	// LinkOutcomeZulipCodeLimit: the Zulip account was sent
	// MaxZulipCodesPerDay codes in 24 hours, whoever asked for them.
	LinkOutcomeZulipCodeLimit LinkOutcome = "zulip_account_code_limit"
	LinkOutcomeNoZulipUser    LinkOutcome = "no_zulip_user"
	LinkOutcomeUnlinked       LinkOutcome = "unlinked"
	LinkOutcomeNotLinked      LinkOutcome = "not_linked"
	LinkOutcomeFailed         LinkOutcome = "failed" // see Failure
)

// LinkResult is what /account link or unlink did, for the reply.
type LinkResult struct {
	Outcome   LinkOutcome
	Failure   *Failure // set with LinkOutcomeFailed
	Address   string   // the Zulip address concerned
	TriesLeft int
	Until     time.Time // when a new code may be asked for
	Input     string
	Open      *Change // the open change that stopped an unlink
}

// LinkCodeText words the direct message that carries a link code to a
// Zulip account (the edge's reply.LinkCodeMessage): the Mattermost
// username that asked, and the code.
type LinkCodeText func(username, code string) string

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// Link runs /account link <zulip-address> (send a code) or /account link
// <code> (check it and link).
func (s *Service) Link(ctx context.Context, userID, sessionID, arg string) LinkResult {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	arg = strings.TrimSpace(arg)
	res := LinkResult{Input: arg}
	if f := s.CheckSession(userID, sessionID); f != nil {
		return failedLink(res, f)
	}
	if f := s.linkable(); f != nil {
		return failedLink(res, f)
	}
	unlock, f := s.lockUser(ctx, userID)
	if f != nil {
		return failedLink(res, f)
	}
	defer unlock()
	if b, linked, err := s.opts.Links.Link(userID); err != nil {
		return failedLink(res, newFailure(CodeInternal, err))
	} else if linked {
		res.Outcome = LinkOutcomeAlreadyLinked
		res.Address = s.zulipAddressFor(ctx, userID, b.ZulipUserID)
		return res
	}
	if sixDigits.MatchString(arg) {
		return s.confirmLinkCode(ctx, userID, arg, res)
	}
	return s.sendLinkCode(ctx, userID, arg, res)
}

func (s *Service) linkable() *Failure {
	if !s.syncing() {
		return newFailure(CodeZulipNotConfigured, nil)
	}
	return nil
}

func failedLink(res LinkResult, f *Failure) LinkResult {
	res.Outcome = LinkOutcomeFailed
	res.Failure = f
	return res
}

// sendLinkCode has the bot send a new code to the Zulip account at addr.
func (s *Service) sendLinkCode(ctx context.Context, userID, raw string, res LinkResult) LinkResult {
	addr, err := NormalizeAddress(raw, nil)
	if err != nil {
		return failedLink(res, asFailure(err, CodeAddressInvalid))
	}
	res.Address = addr
	counted, err := s.opts.LinkCodes.CodesSent(userID)
	if err != nil {
		return failedLink(res, newFailure(CodeInternal, err))
	}
	now := s.opts.Now()
	sent := since(counted, now.Add(-changeWindow))
	if len(sent) >= MaxLinkCodesPerDay {
		res.Outcome, res.Until = LinkOutcomeTooManyCodes, sent[len(sent)-MaxLinkCodesPerDay].Add(changeWindow)
		return res
	}
	if len(sent) > 0 && now.Before(sent[len(sent)-1].Add(LinkCodeResend)) {
		res.Outcome, res.Until = LinkOutcomeTooManyCodes, sent[len(sent)-1].Add(LinkCodeResend)
		return res
	}

	if f := s.countLookup(userID); f != nil {
		return failedLink(res, f)
	}
	zu, err := s.zc.GetUser(ctx, addr)
	switch {
	case isNoSuchUser(err):
		res.Outcome = LinkOutcomeNoZulipUser
		return res
	case err != nil:
		return failedLink(res, zulipFailure(err, CodeZulipRejected))
	case !zu.IsActive || zu.IsBot:
		res.Outcome = LinkOutcomeNoZulipUser
		return res
	}
	user, err := s.mm.GetUser(userID)
	if err != nil {
		return failedLink(res, newFailure(CodeMattermostFailed, err))
	}

	if until, f := s.countZulipCode(zu.ID, now); f != nil {
		return failedLink(res, f)
	} else if !until.IsZero() {
		s.opts.Logger.Warn("account sync: refused a link code: the Zulip account was sent the most codes a day", "user_id", userID, "zulip_user_id", zu.ID)
		res.Outcome, res.Until = LinkOutcomeZulipCodeLimit, until
		return res
	}

	code, err := newLinkCode()
	if err != nil {
		return failedLink(res, newFailure(CodeInternal, err))
	}
	// Count and save before sending, and count the code even if sending
	// fails: every code that may have reached Zulip can be checked, and
	// nobody can make the bot send unlimited messages. The count has its
	// own record: linking deletes the code, never the count.
	if err := s.opts.LinkCodes.SaveCodesSent(userID, append(sent, now)); err != nil {
		return failedLink(res, newFailure(CodeInternal, err))
	}
	lc := LinkCode{ZulipUserID: zu.ID, ZulipAddress: addr, Hash: hashLinkCode(userID, code), ExpiresAt: now.Add(LinkCodeTTL), TriesLeft: LinkCodeTries}
	if err := s.opts.LinkCodes.SaveLinkCode(userID, lc); err != nil {
		return failedLink(res, newFailure(CodeInternal, err))
	}
	if _, err := s.zc.SendDirectMessage(ctx, zu.ID, s.opts.LinkCodeText(user.Username, code)); err != nil {
		f := zulipFailure(err, CodeZulipRejected)
		s.logFailureKV("account sync: could not send a link code in Zulip", f, "user_id", userID, "zulip_user_id", zu.ID)
		return failedLink(res, f)
	}
	s.opts.Logger.Info("account sync: sent a link code in Zulip", "user_id", userID, "zulip_user_id", zu.ID)
	res.Outcome = LinkOutcomeCodeSent
	return res
}

// countZulipCode counts a code about to be sent to the Zulip account,
// atomically across users; until is set instead when the account was sent
// MaxZulipCodesPerDay codes in the last 24 hours, and says when the oldest
// of them stops counting.
func (s *Service) countZulipCode(zulipID int, now time.Time) (until time.Time, f *Failure) {
	err := s.opts.LinkCodes.UpdateZulipCodesSent(zulipID, func(stored []time.Time) ([]time.Time, bool) {
		sent := since(stored, now.Add(-changeWindow))
		if len(sent) >= MaxZulipCodesPerDay {
			until = sent[len(sent)-MaxZulipCodesPerDay].Add(changeWindow)
			return nil, false
		}
		until = time.Time{} // an earlier try of the compare-and-set may have set it
		return append(sent, now), true
	})
	if err != nil {
		return time.Time{}, newFailure(CodeInternal, err)
	}
	return until, nil
}

// confirmLinkCode checks code against the user's pending one and links the
// Zulip account it was sent to.
func (s *Service) confirmLinkCode(ctx context.Context, userID, code string, res LinkResult) LinkResult {
	lc, ok, err := s.opts.LinkCodes.LinkCode(userID)
	switch {
	case err != nil:
		return failedLink(res, newFailure(CodeInternal, err))
	case !ok || lc.Hash == "":
		res.Outcome = LinkOutcomeNoCode
		return res
	}
	res.Address = lc.ZulipAddress
	if !s.opts.Now().Before(lc.ExpiresAt) || lc.TriesLeft <= 0 {
		res.Outcome = LinkOutcomeCodeExpired
		lc.Hash = "" // keep Sent for the limit
		if err := s.opts.LinkCodes.SaveLinkCode(userID, lc); err != nil {
			s.opts.Logger.Error("account sync: could not clear an expired link code", "user_id", userID, "error", err.Error())
		}
		return res
	}
	if subtle.ConstantTimeCompare([]byte(hashLinkCode(userID, code)), []byte(lc.Hash)) != 1 {
		lc.TriesLeft--
		if lc.TriesLeft <= 0 {
			lc.Hash = ""
		}
		if err := s.opts.LinkCodes.SaveLinkCode(userID, lc); err != nil {
			return failedLink(res, newFailure(CodeInternal, err))
		}
		s.opts.Logger.Info("account sync: wrong link code", "user_id", userID, "tries_left", lc.TriesLeft)
		res.Outcome, res.TriesLeft = LinkOutcomeWrongCode, lc.TriesLeft
		return res
	}

	zu, err := s.zc.GetUserByID(ctx, lc.ZulipUserID)
	switch {
	case isNoSuchUser(err):
		res.Outcome = LinkOutcomeNoZulipUser
		return res
	case err != nil:
		return failedLink(res, zulipFailure(err, CodeZulipRejected))
	case !zu.IsActive || zu.IsBot:
		res.Outcome = LinkOutcomeNoZulipUser
		return res
	}
	l := Link{UserID: userID, ZulipUserID: zu.ID, Method: LinkCodeMethod, LinkedAt: s.opts.Now().UTC()}
	if u, err := s.mm.GetUser(userID); err == nil && zu.RealAddress() != "" && strings.EqualFold(u.Email, zu.RealAddress()) {
		l.AgreedEmail = u.Email // the same address on both sides; else none is agreed yet
	}
	err = s.opts.Links.AddLink(l)
	switch {
	case errors.Is(err, ErrAlreadyLinked):
		return failedLink(res, newFailure(CodeZulipLinkedElsewhere, err))
	case err != nil:
		return failedLink(res, newFailure(CodeInternal, err))
	}
	if err := s.opts.LinkCodes.DeleteLinkCode(userID); err != nil {
		s.opts.Logger.Error("account sync: could not delete a used link code", "user_id", userID, "error", err.Error())
	}
	s.opts.Logger.Info("account sync: linked a Mattermost account to a Zulip account by code", "user_id", userID, "zulip_user_id", zu.ID)
	res.Outcome = LinkOutcomeLinked
	return res
}

// Unlink runs /account unlink: the caller's link is removed, unless a
// change of theirs is open (it is linked to that Zulip account).
func (s *Service) Unlink(ctx context.Context, userID, sessionID string) LinkResult {
	var res LinkResult
	if f := s.CheckSession(userID, sessionID); f != nil {
		return failedLink(res, f)
	}
	unlock, f := s.lockUser(ctx, userID)
	if f != nil {
		return failedLink(res, f)
	}
	defer unlock()
	var open Result
	if f := s.checkOpenChange(userID, &open); f != nil {
		res.Open = open.Open
		return failedLink(res, f)
	}
	b, ok, err := s.opts.Links.RemoveLink(userID)
	switch {
	case err != nil:
		return failedLink(res, newFailure(CodeInternal, err))
	case !ok:
		res.Outcome = LinkOutcomeNotLinked
		return res
	}
	s.opts.Logger.Info("account sync: unlinked a Mattermost account from its Zulip account", "user_id", userID, "zulip_user_id", b.ZulipUserID, "method", string(b.Method))
	res.Outcome = LinkOutcomeUnlinked
	res.Address = fmt.Sprintf("#%d", b.ZulipUserID)
	if s.zc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.FlowTimeout)
		defer cancel()
		res.Address = s.zulipAddressFor(ctx, userID, b.ZulipUserID)
	}
	return res
}

// zulipAddressFor is zulipAddressOf for a reply to userID, counted
// against the user's hourly attempts; past them, the reply names the id
// and Zulip is not asked.
func (s *Service) zulipAddressFor(ctx context.Context, userID string, id int) string {
	if f := s.countLookup(userID); f != nil {
		return fmt.Sprintf("#%d", id)
	}
	return s.zulipAddressOf(ctx, id)
}

// zulipAddressOf is the account's real address for a reply, or its id when
// Zulip hides or cannot give it.
func (s *Service) zulipAddressOf(ctx context.Context, id int) string {
	if zu, err := s.zc.GetUserByID(ctx, id); err == nil && zu.RealAddress() != "" {
		return zu.RealAddress()
	}
	return fmt.Sprintf("#%d", id)
}

func newLinkCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("account: making a link code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// hashLinkCode links the code to the user, so a code sent for one user is
// worthless to another.
func hashLinkCode(userID, code string) string {
	sum := sha256.Sum256([]byte("account-sync-link\x00" + userID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func (s *Service) logFailureKV(msg string, f *Failure, kv ...any) {
	kv = append(kv, "code", string(f.Code), "error", errString(f))
	if f.Code.ForAdmin() {
		s.opts.Logger.Error(msg, kv...)
		return
	}
	s.opts.Logger.Warn(msg, kv...)
}
