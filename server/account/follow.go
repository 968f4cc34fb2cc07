package account

import (
	"context"
	"errors"
	"strings"
)

// This file holds what the job does with each kind of open change: one
// function per open state, each reading both systems before it acts.

// retryChange makes a change that waits for Zulip again, from the checks
// on, as if the user had just asked (the session was checked then).
func (s *Service) retryChange(ctx context.Context, res *Result) {
	ch := &res.Change
	if s.timeUp(ch) {
		s.stop(ctx, res, StepCheckZulip, s.gaveUp(ch))
		return
	}
	if !s.opts.SyncZulip {
		// It was to be made in both systems or not at all.
		s.stop(ctx, res, StepValidate, newFailure(CodeSyncTurnedOff, nil))
		return
	}
	if s.zc == nil {
		s.stop(ctx, res, StepValidate, newFailure(CodeZulipNotConfigured, nil))
		return
	}
	if f := s.domainAllowed(ch.NewEmail); f != nil { // the setting may have changed since
		s.stop(ctx, res, StepValidate, f)
		return
	}
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		s.wait(ctx, res, newFailure(CodeMattermostFailed, err))
		return
	}
	if !strings.EqualFold(user.Email, ch.OldEmail) {
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		s.stop(ctx, res, StepValidate, f)
		return
	}
	if f := s.validateUser(user, ch.NewEmail); f != nil {
		s.stop(ctx, res, StepValidate, f)
		return
	}
	ch.Zulip = s.initialZulipStatus() // nothing changed yet: made as the settings say now
	ch.step(s.opts.Now(), StepValidate, "")
	s.attempt(ctx, res, user, s.usageCounter(user.ID))
}

// followVerification brings Zulip along once the user opened Mattermost's
// confirmation link, and expires the change when the link can no longer be
// opened.
func (s *Service) followVerification(ctx context.Context, res *Result) {
	ch := &res.Change
	now := s.opts.Now()
	expired := now.After(ch.CreatedAt.Add(VerificationLinkValidity + verificationMargin))
	user, err := s.mm.GetUser(ch.UserID)
	switch {
	case err != nil && !expired:
		s.opts.Logger.Warn("account sync: could not read the user of a change waiting for its link; trying again later", "change_id", ch.ID, "error", err.Error())
		return
	case err != nil:
		// The link can no longer be opened, but whether it was cannot be
		// read: an admin must look.
		res.Failure = newFailure(CodeUserUnreadable, err)
		s.noteError(ch, res.Failure)
		ch.Mattermost = StatusUnknown
		s.move(ch, StateNeedsAttention)
		s.finish(ctx, res)
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.step(now, StepVerified, "")
		if !s.zulipFollows(ch) {
			s.finish(ctx, res)
			return
		}
		// Zulip gets the full retry time from now, not from the request.
		giveUp := now.Add(s.opts.RetryFor)
		ch.GiveUpAt = &giveUp
		ch.NextAttemptAt = &now
		s.move(ch, StateMattermostChanged)
		if !s.save(ctx, ch) { // write ahead of Zulip
			return
		}
		s.followZulip(ctx, res)
	case expired:
		res.Failure = newFailure(CodeLinkExpired, nil)
		s.noteError(ch, res.Failure)
		ch.Mattermost = StatusUntouched
		s.move(ch, StateExpired)
		s.finish(ctx, res)
	}
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
	ch.Zulip = StatusDisabled
	ch.NextAttemptAt, ch.GiveUpAt = nil, nil
	s.move(ch, StateDone)
	return false
}

// followZulip brings Zulip to the address Mattermost already has: the
// bound account, by its id. Zulip already showing the address is success.
func (s *Service) followZulip(ctx context.Context, res *Result) {
	ch := &res.Change
	if !s.opts.SyncZulip && ch.Zulip == StatusUnknown {
		// Sync was turned off after Zulip's answer was lost: tell what
		// Zulip has, never "Zulip was not changed" on a guess.
		switch has, err := s.zulipHasNew(ctx, ch); {
		case err != nil:
			s.retryOrAttention(ctx, res, zulipFailure(err, CodeZulipRejected))
			return
		case has:
			s.afterZulip(ctx, res, nil)
			s.finish(ctx, res)
			return
		}
		ch.Zulip = StatusUntouched
	}
	if !s.zulipFollows(ch) {
		s.finish(ctx, res)
		return
	}
	user, err := s.mm.GetUser(ch.UserID)
	if err == nil && !strings.EqualFold(user.Email, ch.NewEmail) {
		// Changed again by other means: Zulip must not follow this one,
		// and Mattermost is not put back over that change.
		s.changedMeanwhile(ctx, res, user.Email, StepSyncZulip)
		return
	}
	if s.timeUp(ch) {
		s.giveUpOnZulip(ctx, res, s.gaveUp(ch))
		s.finish(ctx, res)
		return
	}
	if s.zc == nil {
		s.schedule(ch, newFailure(CodeZulipNotConfigured, nil))
		s.finish(ctx, res)
		return
	}
	if err != nil {
		s.schedule(ch, newFailure(CodeMattermostFailed, err))
		s.finish(ctx, res)
		return
	}
	if user.Deactivated {
		s.endForDeactivated(ctx, res)
		return
	}
	if f := s.checkStillLinked(ch); f != nil {
		if f.Code == CodeInternal {
			s.schedule(ch, f)
			s.finish(ctx, res)
			return
		}
		s.rollBackUnlessZulipTookIt(ctx, res, f)
		return
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	if err != nil && ch.Zulip == StatusUnknown && !answerLost(err) {
		// Zulip's answer to the change was lost, and now the account
		// cannot be read: no clear answer to the change, so no rollback.
		s.retryOrAttention(ctx, res, zulipFailure(err, CodeZulipRejected))
		return
	}
	if err == nil && !zu.IsActive && !strings.EqualFold(zu.RealAddress(), ch.NewEmail) {
		err = newFailure(CodeZulipAccountInactive, nil)
	}
	if err == nil && strings.EqualFold(zu.RealAddress(), ch.NewEmail) {
		s.afterZulip(ctx, res, nil)
		s.finish(ctx, res)
		return
	}
	if err == nil {
		err = s.zc.ChangeEmailByID(ctx, ch.ZulipUserID, ch.NewEmail)
	}
	s.afterZulip(ctx, res, err)
	s.finish(ctx, res)
}

// rollBackFor ends a change Zulip must not take, after Mattermost changed:
// Mattermost is put back.
func (s *Service) rollBackFor(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	res.Failure = f
	ch.NextAttemptAt = nil
	s.noteError(ch, f)
	ch.step(s.opts.Now(), StepSyncZulip, f.Code)
	s.save(ctx, ch)
	s.rollbackMattermost(res)
	s.finish(ctx, res)
}

// rollBackUnlessZulipTookIt puts Mattermost back for f, unless Zulip may
// have taken the change (an earlier answer was lost): then Zulip is read
// first, and a change Zulip took, or whose outcome cannot be seen, is for
// an admin.
func (s *Service) rollBackUnlessZulipTookIt(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	if ch.Zulip == StatusUnknown {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			s.attention(ctx, res, f)
			return
		case err != nil:
			s.retryOrAttention(ctx, res, zulipFailure(err, CodeZulipRejected))
			return
		case has:
			ch.Zulip = StatusChanged
			s.attention(ctx, res, f)
			return
		}
		ch.Zulip = StatusUntouched
	}
	s.rollBackFor(ctx, res, f)
}

// attention ends a change whose systems differ, or may: an admin must look.
func (s *Service) attention(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	res.Failure = f
	ch.NextAttemptAt = nil
	s.noteError(ch, f)
	ch.step(s.opts.Now(), StepSyncZulip, f.Code)
	s.move(ch, StateNeedsAttention)
	s.finish(ctx, res)
}

// endForDeactivated ends the change of a user deactivated after Mattermost
// changed, without touching Zulip: when Zulip may have taken it already
// (an earlier answer was lost), Zulip is read first.
func (s *Service) endForDeactivated(ctx context.Context, res *Result) {
	ch := &res.Change
	f := newFailure(CodeUserDeactivated, nil)
	if ch.Zulip == StatusUnknown {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			s.attention(ctx, res, f)
			return
		case err != nil:
			s.retryOrAttention(ctx, res, zulipFailure(err, CodeZulipRejected))
			return
		case has:
			// Both systems have the new address already.
			s.afterZulip(ctx, res, nil)
			s.finish(ctx, res)
			return
		}
		ch.Zulip = StatusUntouched
	}
	s.rollBackFor(ctx, res, f)
}

// changedMeanwhile ends a change whose Mattermost email was changed by
// other means while it was open. When an earlier answer of Zulip's was
// lost, Zulip is read first: if it took the new address, the systems now
// differ and an admin must look; it is never called "nothing changed".
func (s *Service) changedMeanwhile(ctx context.Context, res *Result, now string, step string) {
	ch := &res.Change
	f := newFailure(CodeChangedMeanwhile, nil)
	f.Detail = now
	if ch.Zulip == StatusUnknown || (ch.State == StateStarted && ch.ZulipUserID != 0) {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			res.Failure = f
			ch.NextAttemptAt = nil
			s.noteError(ch, f)
			ch.step(s.opts.Now(), step, f.Code)
			s.move(ch, StateNeedsAttention)
			s.finish(ctx, res)
			return
		case err != nil:
			f.Err = err // why Zulip could not be read, for the log
			s.retryOrAttention(ctx, res, f)
			return
		case has:
			ch.Zulip = StatusChanged
			res.Failure = f
			ch.NextAttemptAt = nil
			s.noteError(ch, f)
			ch.step(s.opts.Now(), step, f.Code)
			s.move(ch, StateNeedsAttention)
			s.finish(ctx, res)
			return
		}
		ch.Zulip = StatusUntouched
	}
	res.Failure = f
	ch.NextAttemptAt = nil
	s.noteError(ch, f)
	ch.step(s.opts.Now(), step, f.Code)
	s.move(ch, StateFailed)
	s.finish(ctx, res)
}

// errAddressHidden: Zulip hides the account's address from the bot, so
// whether it has the new one cannot be seen.
var errAddressHidden = errors.New("account: Zulip hides the account's address from the sync bot")

// zulipHasNew reads the change's Zulip account: does it have the new
// address? errAddressHidden when the bot cannot see its address.
func (s *Service) zulipHasNew(ctx context.Context, ch *Change) (bool, error) {
	if s.zc == nil || ch.ZulipUserID == 0 {
		return false, errors.New("account: Zulip is not configured")
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	switch {
	case err != nil:
		return false, err
	case zu.RealAddress() == "":
		return false, errAddressHidden
	}
	return strings.EqualFold(zu.RealAddress(), ch.NewEmail), nil
}

// retryOrAttention tries a change again later when what decides its end
// could not be read, and hands it to an admin at its give-up time.
func (s *Service) retryOrAttention(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	if ch.GiveUpAt == nil {
		giveUp := ch.CreatedAt.Add(s.opts.RetryFor)
		ch.GiveUpAt = &giveUp
	}
	if !s.timeUp(ch) {
		s.schedule(ch, f)
		s.finish(ctx, res)
		return
	}
	res.Failure = f
	ch.NextAttemptAt = nil
	s.noteError(ch, f)
	s.move(ch, StateNeedsAttention)
	s.finish(ctx, res)
}

// checkStillLinked makes sure the change's Zulip account is still the one
// linked to the user (unlinking waits for open changes, but a link is data
// an admin may repair by hand).
func (s *Service) checkStillLinked(ch *Change) *Failure {
	if s.opts.Bindings == nil {
		return nil
	}
	b, ok, err := s.opts.Bindings.Binding(ch.UserID)
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
func (s *Service) settleInterrupted(ctx context.Context, res *Result) {
	ch := &res.Change
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		s.unreadableInFlight(ctx, res, err)
		return
	}
	now := s.opts.Now()
	s.opts.Logger.Warn("account sync: settling a change that was interrupted", "change_id", ch.ID, "user_id", ch.UserID)
	switch {
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.step(now, StepCheckInFlight, "")
		if !s.zulipFollows(ch) {
			s.finish(ctx, res)
			return
		}
		if ch.GiveUpAt == nil {
			giveUp := now.Add(s.opts.RetryFor)
			ch.GiveUpAt = &giveUp
		}
		ch.NextAttemptAt = &now
		s.move(ch, StateMattermostChanged)
		if s.save(ctx, ch) {
			s.followZulip(ctx, res)
		}
	case strings.EqualFold(user.Email, ch.OldEmail):
		// Nothing changed (Zulip is only ever changed after Mattermost):
		// make the whole change again.
		ch.step(now, StepCheckInFlight, "")
		ch.NextAttemptAt = &now
		if ch.GiveUpAt == nil {
			giveUp := ch.CreatedAt.Add(s.opts.RetryFor)
			ch.GiveUpAt = &giveUp
		}
		s.move(ch, StateWaitingForZulip)
		s.finish(ctx, res)
	default:
		s.changedMeanwhile(ctx, res, user.Email, StepCheckInFlight)
	}
}

// unreadableInFlight backs off from an interrupted change whose user
// cannot be read, and ends it at its give-up time: failed when the account
// is gone and Zulip does not have the new address, for an admin otherwise.
func (s *Service) unreadableInFlight(ctx context.Context, res *Result, err error) {
	ch := &res.Change
	f := newFailure(CodeUserUnreadable, err)
	if ch.GiveUpAt == nil {
		giveUp := ch.CreatedAt.Add(s.opts.RetryFor)
		ch.GiveUpAt = &giveUp
	}
	if !s.timeUp(ch) {
		s.opts.Logger.Warn("account sync: could not read the user of an interrupted change; trying again later", "change_id", ch.ID, "error", err.Error())
		s.schedule(ch, f)
		s.finish(ctx, res)
		return
	}
	res.Failure = f
	ch.NextAttemptAt = nil
	s.noteError(ch, f)
	ch.step(s.opts.Now(), StepCheckInFlight, f.Code)
	has, zerr := false, error(nil)
	if ch.ZulipUserID != 0 && s.opts.SyncZulip {
		has, zerr = s.zulipHasNew(ctx, ch)
	}
	switch {
	case errors.Is(err, ErrUserNotFound) && zerr == nil && !has:
		s.move(ch, StateFailed) // no account left to keep in step
	default:
		ch.Mattermost = StatusUnknown
		if has {
			ch.Zulip = StatusChanged
		}
		s.move(ch, StateNeedsAttention)
	}
	s.finish(ctx, res)
}

// followRollback waits for the link that puts the old address back in
// Mattermost (Require Email Verification is on, and Zulip refused the
// change): the old address back ends the change rolled back; once no link
// can bring it back, the systems differ and an admin must look.
func (s *Service) followRollback(ctx context.Context, res *Result) {
	ch := &res.Change
	now := s.opts.Now()
	user, err := s.mm.GetUser(ch.UserID)
	switch {
	case err == nil && strings.EqualFold(user.Email, ch.OldEmail):
		ch.Mattermost = StatusRolledBack
		ch.GiveUpAt = nil
		ch.step(now, StepRollbackVerified, "")
		res.Failure = s.lastFailure(ch)
		s.move(ch, StateRolledBack)
	case err == nil && !strings.EqualFold(user.Email, ch.NewEmail):
		// Changed another way meanwhile: Zulip kept the old address.
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		res.Failure = f
		s.noteError(ch, f)
		ch.GiveUpAt = nil
		ch.Mattermost = StatusRollbackFailed
		ch.step(now, StepRollbackVerified, f.Code)
		s.move(ch, StateNeedsAttention)
	case s.timeUp(ch):
		res.Failure = newFailure(CodeRollbackLinkExpired, err)
		ch.Mattermost = StatusRollbackFailed
		ch.step(now, StepRollbackVerified, CodeRollbackLinkExpired)
		s.move(ch, StateNeedsAttention)
	case err != nil:
		s.opts.Logger.Warn("account sync: could not read the user of a change waiting for its rollback link; trying again later", "change_id", ch.ID, "error", err.Error())
		return
	default:
		return // the link is still to be opened
	}
	s.finish(ctx, res)
}

// lastFailure is the stored failure that stopped a change, for its final
// record and message.
func (s *Service) lastFailure(ch *Change) *Failure {
	if ch.LastError == nil {
		return nil
	}
	return &Failure{Code: ch.LastError.Code}
}
