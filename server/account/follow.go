package account

import (
	"context"
	"errors"
	"strings"
)

// This file holds what the job does with each kind of open change: one
// function per open state, each reading both systems before it acts. Each
// moves res.Change at most to its next state and reports whether there is
// anything to record; the job then finishes the change once.

// retryChange makes a change that waits for Zulip again, from the checks
// on, as if the user had just asked (the session was checked then).
func (s *Service) retryChange(ctx context.Context, res *Result) bool {
	ch := &res.Change
	if s.timeUp(ch) {
		return s.end(res, ch.fail(s.opts.Now(), StepCheckZulip, s.gaveUp(ch)), s.gaveUp(ch))
	}
	if !s.opts.SyncZulip {
		// It was to be made in both systems or not at all.
		f := newFailure(CodeSyncTurnedOff, nil)
		return s.end(res, ch.fail(s.opts.Now(), StepValidate, f), f)
	}
	if s.zc == nil {
		f := newFailure(CodeZulipNotConfigured, nil)
		return s.end(res, ch.fail(s.opts.Now(), StepValidate, f), f)
	}
	if f := s.domainAllowed(ch.NewEmail); f != nil { // the setting may have changed since
		return s.end(res, ch.fail(s.opts.Now(), StepValidate, f), f)
	}
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		s.wait(ctx, res, newFailure(CodeMattermostFailed, err))
		return true
	}
	if !strings.EqualFold(user.Email, ch.OldEmail) {
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		return s.end(res, ch.fail(s.opts.Now(), StepValidate, f), f)
	}
	if f := s.validateUser(user, ch.NewEmail); f != nil {
		return s.end(res, ch.fail(s.opts.Now(), StepValidate, f), f)
	}
	ch.Zulip = s.initialZulipStatus() // nothing changed yet: made as the settings say now
	ch.record(s.opts.Now(), StepValidate, nil)
	s.attempt(ctx, res, user, s.usageCounter(user.ID))
	return true
}

// end notes f as why res ended after the move that gave err.
func (s *Service) end(res *Result, err error, f *Failure) bool {
	res.Failure = f
	s.moved(err)
	return true
}

// followVerification brings Zulip along once the user opened Mattermost's
// confirmation link, and expires the change when the link can no longer be
// opened.
func (s *Service) followVerification(ctx context.Context, res *Result) bool {
	ch := &res.Change
	now := s.opts.Now()
	expired := now.After(ch.CreatedAt.Add(VerificationLinkValidity + verificationMargin))
	user, err := s.mm.GetUser(ch.UserID)
	switch {
	case err != nil && !expired:
		s.opts.Logger.Warn("account sync: could not read the user of a change waiting for its link; trying again later", "change_id", ch.ID, "error", err.Error())
		return false
	case err != nil:
		// The link can no longer be opened, but whether it was cannot be
		// read: an admin must look.
		f := newFailure(CodeUserUnreadable, err)
		return s.end(res, ch.needAttention(now, "", f, attention{mattermost: StatusUnknown}), f)
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.record(now, StepVerified, nil)
		ch.Mattermost = StatusChanged
		if !s.zulipFollows(ch) {
			return true
		}
		return s.followAhead(ctx, res, true) // the full retry time from now, not from the request
	case expired:
		f := newFailure(CodeLinkExpired, nil)
		return s.end(res, ch.expire(now, f), f)
	}
	return false
}

// zulipFollows tells whether Zulip is to follow a change Mattermost has
// made. A change asked for while sync was off stays a Mattermost-only
// change even if sync was turned on since (its Zulip account was never
// checked), and none follows while sync is off: both end done here.
func (s *Service) zulipFollows(ch *Change) bool {
	if ch.Zulip != StatusDisabled && s.opts.SyncZulip {
		return true
	}
	if ch.Zulip != StatusDisabled {
		s.opts.Logger.Warn("account sync: Zulip sync was turned off while a change waited; Zulip is left as it is", "change_id", ch.ID)
	}
	ch.GiveUpAt = nil
	s.moved(ch.succeed(s.opts.Now(), "", StatusDisabled))
	return false
}

// followZulip brings Zulip to the address Mattermost already has: the
// linked account, by its id. Zulip already showing the address is success.
func (s *Service) followZulip(ctx context.Context, res *Result) bool {
	ch := &res.Change
	if !s.opts.SyncZulip && ch.Zulip == StatusUnknown {
		// Sync was turned off after Zulip's answer was lost: tell what
		// Zulip has, never "Zulip was not changed" on a guess.
		switch has, err := s.zulipHasNew(ctx, ch); {
		case err != nil:
			return s.retryOrAttention(res, zulipFailure(err, CodeZulipRejected))
		case has:
			s.afterZulip(ctx, res, nil)
			return true
		}
		ch.Zulip = StatusUntouched
	}
	if !s.zulipFollows(ch) {
		return true
	}
	user, err := s.mm.GetUser(ch.UserID)
	if err == nil && !strings.EqualFold(user.Email, ch.NewEmail) {
		// Changed again by other means: Zulip must not follow this one,
		// and Mattermost is not put back over that change.
		return s.changedMeanwhile(ctx, res, user.Email, StepSyncZulip)
	}
	switch {
	case s.timeUp(ch):
		s.giveUpOnZulip(ctx, res, s.gaveUp(ch))
		return true
	case s.zc == nil:
		ch.retryLater(s.opts.Now(), newFailure(CodeZulipNotConfigured, nil), s.retryTimes(ch, nil))
		return true
	case err != nil:
		ch.retryLater(s.opts.Now(), newFailure(CodeMattermostFailed, err), s.retryTimes(ch, nil))
		return true
	case user.Deactivated:
		return s.endForDeactivated(ctx, res)
	}
	if f := s.checkStillLinked(ch); f != nil {
		if f.Code == CodeInternal {
			ch.retryLater(s.opts.Now(), f, s.retryTimes(ch, f))
			return true
		}
		return s.rollBackUnlessZulipTookIt(ctx, res, f)
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	if err != nil && ch.Zulip == StatusUnknown && !answerLost(err) {
		// Zulip's answer to the change was lost, and now the account
		// cannot be read: no clear answer to the change, so no rollback.
		return s.retryOrAttention(res, zulipFailure(err, CodeZulipRejected))
	}
	if err == nil && !zu.IsActive && !strings.EqualFold(zu.RealAddress(), ch.NewEmail) {
		err = newFailure(CodeZulipAccountInactive, nil)
	}
	if err == nil && ch.Origin == OriginZulipElsewhere && !strings.EqualFold(zu.RealAddress(), ch.NewEmail) {
		// Applied from Zulip, which has moved on since the link was sent:
		// Zulip is never written for it. Mattermost keeps what the user
		// confirmed; the next scan follows Zulip's newer address.
		ch.GiveUpAt = nil
		s.moved(ch.succeed(s.opts.Now(), StepSyncZulip, StatusUntouched))
		return true
	}
	if err == nil && !strings.EqualFold(zu.RealAddress(), ch.NewEmail) {
		err = s.zc.ChangeEmailByID(ctx, ch.ZulipUserID, ch.NewEmail)
	}
	s.afterZulip(ctx, res, err)
	return true
}

// rollBackFor ends a change Zulip must not take, after Mattermost changed:
// Mattermost is put back.
func (s *Service) rollBackFor(ctx context.Context, res *Result, f *Failure) bool {
	res.Change.record(s.opts.Now(), StepSyncZulip, f)
	s.rollbackAhead(ctx, res, f)
	return true
}

// endForDeactivated ends the change of a user deactivated after Mattermost
// changed, without touching Zulip: when Zulip may have taken it already
// (an earlier answer was lost), Zulip is read first.
func (s *Service) endForDeactivated(ctx context.Context, res *Result) bool {
	ch := &res.Change
	f := newFailure(CodeUserDeactivated, nil)
	if ch.Zulip == StatusUnknown {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			return s.end(res, ch.needAttention(s.opts.Now(), StepSyncZulip, f, attention{}), f)
		case err != nil:
			return s.retryOrAttention(res, zulipFailure(err, CodeZulipRejected))
		case has:
			// Both systems have the new address already.
			s.afterZulip(ctx, res, nil)
			return true
		}
		ch.Zulip = StatusUntouched
	}
	return s.rollBackFor(ctx, res, f)
}

// checkStillLinked makes sure the change's Zulip account is still the one
// linked to the user (unlinking waits for open changes, but a link is data
// an admin may repair by hand).
func (s *Service) checkStillLinked(ch *Change) *Failure {
	b, ok, err := s.opts.Links.Link(ch.UserID)
	switch {
	case err != nil:
		return newFailure(CodeInternal, err)
	case !ok || b.ZulipUserID != ch.ZulipUserID:
		return newFailure(CodeLinkChanged, nil)
	default:
		return nil
	}
}

// settleInterrupted reads back a change left in flight (the plugin stopped
// in the middle) and carries it on from what both systems show.
func (s *Service) settleInterrupted(ctx context.Context, res *Result) bool {
	ch := &res.Change
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		return s.unreadableInFlight(ctx, res, err)
	}
	now := s.opts.Now()
	s.opts.Logger.Warn("account sync: settling a change that was interrupted", "change_id", ch.ID, "user_id", ch.UserID)
	switch {
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.record(now, StepCheckInFlight, nil)
		ch.Mattermost = StatusChanged
		if !s.zulipFollows(ch) {
			return true
		}
		return s.followAhead(ctx, res, false) // from the settling, if it had no give-up time
	case strings.EqualFold(user.Email, ch.OldEmail):
		// Nothing changed (Zulip is only ever changed after Mattermost):
		// make the whole change again.
		s.moved(ch.waitForZulip(now, StepCheckInFlight, nil, s.retryNow(ch)))
		return true
	default:
		return s.changedMeanwhile(ctx, res, user.Email, StepCheckInFlight)
	}
}

// unreadableInFlight backs off from an interrupted change whose user
// cannot be read, and ends it at its give-up time: failed when the account
// is gone and Zulip does not have the new address, for an admin otherwise.
func (s *Service) unreadableInFlight(ctx context.Context, res *Result, err error) bool {
	ch := &res.Change
	f := newFailure(CodeUserUnreadable, err)
	t := s.retryTimes(ch, f)
	if ch.GiveUpAt != nil {
		t.giveUp = *ch.GiveUpAt
	}
	now := s.opts.Now()
	if now.Before(t.giveUp) {
		s.opts.Logger.Warn("account sync: could not read the user of an interrupted change; trying again later", "change_id", ch.ID, "error", err.Error())
		ch.retryLater(now, f, t)
		return true
	}
	has, zerr := false, error(nil)
	if ch.ZulipUserID != 0 && s.opts.SyncZulip {
		has, zerr = s.zulipHasNew(ctx, ch)
	}
	if errors.Is(err, ErrUserNotFound) && zerr == nil && !has {
		return s.end(res, ch.fail(now, StepCheckInFlight, f), f) // no account left to keep in step
	}
	a := attention{mattermost: StatusUnknown}
	if has {
		a.zulip = StatusChanged
	}
	return s.end(res, ch.needAttention(now, StepCheckInFlight, f, a), f)
}

// followRollback waits for the link that puts the old address back in
// Mattermost (Require Email Verification is on, and Zulip refused the
// change): the old address back ends the change rolled back; once no link
// can bring it back, the systems differ and an admin must look.
func (s *Service) followRollback(_ context.Context, res *Result) bool {
	ch := &res.Change
	now := s.opts.Now()
	user, err := s.mm.GetUser(ch.UserID)
	switch {
	case err == nil && strings.EqualFold(user.Email, ch.OldEmail):
		f := s.lastFailure(ch)
		var why Code
		if f != nil {
			why = f.Code
		}
		return s.end(res, ch.rollBack(now, StepRollbackVerified, why), f)
	case err == nil && !strings.EqualFold(user.Email, ch.NewEmail):
		// Changed another way meanwhile: Zulip kept the old address.
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		ch.GiveUpAt = nil
		return s.end(res, ch.needAttention(now, StepRollbackVerified, f, attention{mattermost: StatusRollbackFailed}), f)
	case s.timeUp(ch):
		f := newFailure(CodeRollbackLinkExpired, err)
		a := attention{mattermost: StatusRollbackFailed, keepLastError: true} // Zulip's refusal stays the last error
		return s.end(res, ch.needAttention(now, StepRollbackVerified, f, a), f)
	case err != nil:
		s.opts.Logger.Warn("account sync: could not read the user of a change waiting for its rollback link; trying again later", "change_id", ch.ID, "error", err.Error())
	}
	return false // the link is still to be opened
}

// lastFailure is the stored failure that stopped a change, for its final
// record and message.
func (s *Service) lastFailure(ch *Change) *Failure {
	if ch.LastError == nil {
		return nil
	}
	return &Failure{Code: ch.LastError.Code, Detail: ch.LastError.Detail}
}

// followAhead moves a change whose Mattermost side is done on to Zulip: it
// saves mattermost_changed ahead of Zulip (on a copy) and brings Zulip
// along. Zulip gets the full retry time from now: always when fresh, else
// only if the change had no give-up time. false when the save failed: the
// next run goes on.
func (s *Service) followAhead(ctx context.Context, res *Result, fresh bool) bool {
	ch := &res.Change
	now := s.opts.Now()
	next := ch.clone()
	if fresh {
		next.GiveUpAt = nil
	}
	t := retryTimes{next: now, giveUp: now.Add(s.opts.RetryFor)}
	if !s.moved(next.followLater(now, "", nil, next.Zulip, t)) {
		return true
	}
	if err := s.saveAhead(ctx, &next); err != nil { // write ahead of Zulip
		s.opts.Logger.Error("account sync: could not save the change record; the next run goes on", "change_id", ch.ID, "error", err.Error())
		return false
	}
	*ch = next
	return s.followZulip(ctx, res)
}
