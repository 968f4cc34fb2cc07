package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// checkMattermost makes sure no other Mattermost account uses addr.
func (s *Service) checkMattermost(addr, userID string) *Failure {
	other, err := s.mm.FindUserByEmail(addr)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil
	case err != nil:
		return newFailure(CodeMattermostFailed, err)
	case other.ID != userID:
		return newFailure(CodeTakenInMattermost, nil)
	default:
		return nil
	}
}

// zulipTarget is the Zulip account a change applies to.
type zulipTarget struct {
	userID int
	// address is the Zulip address to use in the PATCH path.
	address string
	// alreadyChanged is true when Zulip already has the new address for
	// this very user (a change finished there earlier).
	alreadyChanged bool
}

// checkZulip makes sure Zulip can take the change before Mattermost is
// touched: the server is new enough, the user exists under the old address,
// the new address is free, and the bot may change this user's email (a
// PATCH to the user's exact current address, which Zulip checks for
// permissions and then leaves alone).
func (s *Service) checkZulip(ctx context.Context, oldAddr, newAddr string) (zulipTarget, *Failure) {
	settings, err := s.zc.ServerSettings(ctx)
	if err != nil {
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}
	if settings.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
		f := newFailure(CodeZulipTooOld, nil)
		f.Detail = settings.Version
		return zulipTarget{}, f
	}

	current, err := s.zc.GetUser(ctx, oldAddr)
	if err != nil {
		return zulipTarget{}, zulipFailure(err, CodeZulipUserNotFound)
	}
	target := zulipTarget{userID: current.ID, address: oldAddr}

	taken, err := s.zc.GetUser(ctx, newAddr)
	switch {
	case err == nil && taken.ID == current.ID:
		target.alreadyChanged = true
		return target, nil
	case err == nil:
		return zulipTarget{}, newFailure(CodeTakenInZulip, nil)
	case zulip.ReasonOf(err) == zulip.ReasonNoSuchUser || zulip.ReasonOf(err) == zulip.ReasonBadRequest:
		// Free, as far as the bot can see.
	default:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}

	// Probe the permission checks with a no-op change. Zulip compares the
	// address case-sensitively, so use exactly the one it stores; if it does
	// not show it, skip the probe rather than risk a real change.
	exact := current.Address()
	if exact == "" || !strings.EqualFold(exact, oldAddr) {
		s.opts.Logger.Warn("account sync: Zulip does not show the user's address; skipping the permission probe", "zulip_user_id", current.ID)
		return target, nil
	}
	if err := s.zc.ChangeEmail(ctx, oldAddr, exact); err != nil {
		return zulipTarget{}, zulipFailure(err, CodeZulipNoPermission)
	}
	return target, nil
}

// zulipFailure maps a Zulip error to a code. badRequest is the code for a
// BAD_REQUEST whose text is not one the client knows (the caller knows which
// check the request could fail).
func zulipFailure(err error, badRequest Code) *Failure {
	var rl *zulip.RateLimitError
	if errors.As(err, &rl) {
		f := newFailure(CodeZulipRateLimited, err)
		f.RetryAfter = rl.RetryAfter
		return f
	}
	if errors.Is(err, zulip.ErrEmailIgnored) {
		return newFailure(CodeZulipTooOld, err)
	}
	if zulip.IsTransient(err) {
		return newFailure(CodeZulipUnavailable, err)
	}
	switch zulip.ReasonOf(err) {
	case zulip.ReasonUnauthorized:
		return newFailure(CodeZulipUnauthorized, err)
	case zulip.ReasonMethodNotAllowed:
		return newFailure(CodeZulipTooOld, err)
	case zulip.ReasonNoSuchUser:
		return newFailure(CodeZulipUserNotFound, err)
	case zulip.ReasonInsufficientPermission:
		return newFailure(CodeZulipBotNotAdmin, err)
	case zulip.ReasonCannotChangeEmails:
		return newFailure(CodeZulipNoPermission, err)
	case zulip.ReasonInvalidEmail:
		return newFailure(CodeZulipRefusedAddress, err)
	case zulip.ReasonEmailInUse:
		return newFailure(CodeTakenInZulip, err)
	case zulip.ReasonBadRequest:
		return newFailure(badRequest, err)
	default:
		return newFailure(CodeZulipRejected, err)
	}
}

// applyMattermost changes the email in Mattermost and reads it back to tell
// a change from a change held for verification from no change at all.
func (s *Service) applyMattermost(ch *Change) *Failure {
	err := s.mm.UpdateEmail(ch.UserID, ch.NewEmail)
	if err != nil {
		f := mattermostFailure(err)
		ch.State = StateRefused
		ch.step(s.opts.Now(), StepApplyMattermost, f.Code)
		return f
	}
	after, err := s.mm.GetUser(ch.UserID)
	switch {
	case err != nil:
		// The update was accepted but cannot be confirmed: do not go on to
		// Zulip on a guess.
		ch.State = StateNeedsAttention
		ch.Mattermost = StatusUnknown
		ch.step(s.opts.Now(), StepApplyMattermost, CodeMattermostFailed)
		return newFailure(CodeMattermostFailed, err)
	case strings.EqualFold(after.Email, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.step(s.opts.Now(), StepApplyMattermost, "")
		return nil
	case strings.EqualFold(after.Email, ch.OldEmail) && s.mm.RequiresEmailVerification():
		ch.Mattermost = StatusPending
		ch.State = StatePendingVerification
		ch.step(s.opts.Now(), StepApplyMattermost, "")
		return nil
	default:
		ch.State = StateMattermostNotChanged
		ch.step(s.opts.Now(), StepApplyMattermost, CodeMattermostUnchanged)
		return newFailure(CodeMattermostUnchanged, nil)
	}
}

func mattermostFailure(err error) *Failure {
	switch {
	case errors.Is(err, ErrEmailTaken):
		return newFailure(CodeTakenInMattermost, err)
	case errors.Is(err, ErrDomainNotAllowed):
		return newFailure(CodeDomainNotAllowed, err)
	default:
		return newFailure(CodeMattermostFailed, err)
	}
}

// syncZulip forwards the change to Zulip, and puts Mattermost back when
// Zulip did not take it.
func (s *Service) syncZulip(ctx context.Context, res *Result, target zulipTarget) {
	ch := &res.Change
	var err error
	if !target.alreadyChanged {
		err = s.zc.ChangeEmail(ctx, target.address, ch.NewEmail)
	}
	if err != nil && zulip.IsTransient(err) {
		// The answer may have been lost after Zulip made the change: look,
		// with a deadline of its own since the flow's may be what ran out.
		lookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
		found := s.zulipHas(lookCtx, ch.NewEmail, target.userID)
		cancel()
		switch found {
		case zulipHasIt:
			s.opts.Logger.Warn("account sync: Zulip's answer was lost but the change is there", "change_id", ch.ID, "error", err.Error())
			err = nil
		case zulipUnknown:
			ch.Zulip = StatusUnknown
		}
	}
	if err == nil {
		ch.Zulip = StatusChanged
		ch.State = StateDone
		ch.step(s.opts.Now(), StepSyncZulip, "")
		return
	}

	res.Failure = zulipFailure(err, CodeZulipRefusedAddress)
	ch.step(s.opts.Now(), StepSyncZulip, res.Failure.Code)
	s.save(ctx, ch)
	s.rollbackMattermost(res)
}

// confirmTimeout bounds the look at Zulip after an unclear answer.
const confirmTimeout = 10 * time.Second

type zulipLookup int

const (
	zulipLacksIt zulipLookup = iota
	zulipHasIt
	zulipUnknown
)

// zulipHas tells whether Zulip shows addr for the user with id.
func (s *Service) zulipHas(ctx context.Context, addr string, id int) zulipLookup {
	u, err := s.zc.GetUser(ctx, addr)
	switch {
	case err == nil && u.ID == id:
		return zulipHasIt
	case err == nil:
		return zulipLacksIt
	case zulip.ReasonOf(err) == zulip.ReasonNoSuchUser || zulip.ReasonOf(err) == zulip.ReasonBadRequest:
		return zulipLacksIt
	default:
		return zulipUnknown
	}
}

// rollbackMattermost puts the old email back after Zulip failed.
func (s *Service) rollbackMattermost(res *Result) {
	ch := &res.Change
	err := s.mm.UpdateEmail(ch.UserID, ch.OldEmail)
	if err == nil {
		after, gerr := s.mm.GetUser(ch.UserID)
		switch {
		case gerr != nil:
			err = gerr
		case !strings.EqualFold(after.Email, ch.OldEmail):
			err = errors.New("account: the old email did not come back")
		}
	}
	if err != nil {
		res.RollbackFailure = mattermostFailure(err)
		ch.Mattermost = StatusRollbackFailed
		ch.State = StateNeedsAttention
		ch.step(s.opts.Now(), StepRollbackMattermost, res.RollbackFailure.Code)
		return
	}
	ch.Mattermost = StatusRolledBack
	ch.step(s.opts.Now(), StepRollbackMattermost, "")
	if ch.Zulip == StatusUnknown {
		// Zulip may have made the change after all: someone must look.
		ch.State = StateNeedsAttention
		return
	}
	ch.State = StateRolledBack
}
