package account

import (
	"context"
	"strings"
	"time"
)

// Step names the job adds to a record.
const (
	StepVerified      = "verified"        // the confirmation link was opened
	StepCheckInFlight = "check_in_flight" // an interrupted change was read back from both systems
	StepCancel        = "cancel"          // the user dropped the change
)

// JobReport counts what one run of the job did.
type JobReport struct {
	Open      int // open changes in the index
	Advanced  int // changes the run moved on
	Busy      int // changes skipped because their user's lock was taken
	Unreached int // changes the run had no time left for
}

// RunDue moves every due open change one step further: retries the changes
// waiting for Zulip, brings Zulip along once a confirmation link is opened
// or after Mattermost changed, and settles changes left in flight. Several
// nodes may run it at once: each change is moved under its user's lock and
// saved with compare-and-set.
func (s *Service) RunDue(ctx context.Context) (JobReport, error) {
	var rep JobReport
	if s.opts.Recorder == nil {
		return rep, nil
	}
	open, err := s.opts.Recorder.OpenChanges()
	if err != nil {
		return rep, err
	}
	rep.Open = len(open)
	for i, e := range open {
		select {
		case <-ctx.Done():
			rep.Unreached = len(open) - i // the next run goes on
			return rep, nil
		default:
		}
		if !s.due(e.State, e.NextAttemptAt, e.UpdatedAt) {
			continue
		}
		moved, busy := s.advance(ctx, e.ID, e.UserID)
		if moved {
			rep.Advanced++
		}
		if busy {
			rep.Busy++
		}
	}
	return rep, nil
}

// NextDue is when the earliest open change is due; ok is false when none
// is open. The scheduler runs the job no later than that.
func (s *Service) NextDue() (at time.Time, ok bool) {
	if s.opts.Recorder == nil {
		return time.Time{}, false
	}
	open, err := s.opts.Recorder.OpenChanges()
	if err != nil {
		return time.Time{}, false
	}
	for _, e := range open {
		var t time.Time
		switch {
		case e.State == StatePendingVerification:
			continue // checked on every regular run
		case e.State == StateStarted:
			t = e.UpdatedAt.Add(interruptedAfter)
		case e.NextAttemptAt != nil:
			t = *e.NextAttemptAt
		default:
			t = s.opts.Now()
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

// due tells whether an open change should be looked at now.
func (s *Service) due(state State, next *time.Time, updated time.Time) bool {
	now := s.opts.Now()
	switch state {
	case StatePendingVerification:
		return true // one read of the user: has the link been opened?
	case StateStarted:
		return now.Sub(updated) > interruptedAfter
	default:
		return next == nil || !now.Before(*next)
	}
}

// advance moves one change on, under its user's lock. moved is false when
// nothing was saved; busy when the lock was taken (a command is running).
func (s *Service) advance(ctx context.Context, id, userID string) (moved, busy bool) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	if s.opts.Locker != nil {
		unlock, ok, err := s.opts.Locker.TryLock(ctx, userID)
		if err != nil {
			s.opts.Logger.Error("account sync: the job could not take a user's lock", "user_id", userID, "change_id", id, "error", err.Error())
			return false, false
		}
		if !ok {
			return false, true
		}
		defer unlock()
	}
	ch, ok, err := s.opts.Recorder.GetChange(id)
	switch {
	case err != nil:
		s.opts.Logger.Error("account sync: the job could not read a change", "change_id", id, "error", err.Error())
		return false, false
	case !ok:
		if err := s.opts.Recorder.DropOpen(id); err != nil {
			s.opts.Logger.Warn("account sync: could not drop an index entry without a record", "change_id", id, "error", err.Error())
		}
		return false, false
	case !ch.State.Open():
		// Closed but still indexed (a save was cut short): saving it
		// again takes it out of the index.
		return s.save(ctx, &ch), false
	case !s.due(ch.State, ch.NextAttemptAt, ch.UpdatedAt):
		return false, false
	}
	before := ch.State
	res := Result{Change: ch}
	switch ch.State {
	case StateWaitingForZulip:
		s.retryChange(ctx, &res)
	case StatePendingVerification:
		s.followVerification(ctx, &res)
	case StateMattermostChanged:
		s.followZulip(ctx, &res)
	case StateStarted:
		s.settleInterrupted(ctx, &res)
	}
	after := res.Change.State
	if after != before && (!after.Open() || after == StatePendingVerification) {
		s.notify(res)
	}
	return after != before || res.Change.Attempts != ch.Attempts, false
}

// retryChange makes a change that waits for Zulip again, from the checks
// on, as if the user had just asked (the session was checked then).
func (s *Service) retryChange(ctx context.Context, res *Result) {
	ch := &res.Change
	if s.timeUp(ch) {
		s.stop(ctx, res, StepCheckZulip, s.gaveUp(ch))
		return
	}
	if !s.opts.SyncZulip || s.zc == nil {
		s.stop(ctx, res, StepValidate, newFailure(CodeZulipNotConfigured, nil))
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
	ch.step(s.opts.Now(), StepValidate, "")
	s.attempt(ctx, res, user, s.usageCounter(user.ID))
}

// followVerification brings Zulip along once the user opened Mattermost's
// confirmation link, and expires the change when the link can no longer be
// opened.
func (s *Service) followVerification(ctx context.Context, res *Result) {
	ch := &res.Change
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		s.opts.Logger.Warn("account sync: could not read the user of a change waiting for its link; trying again later", "change_id", ch.ID, "error", err.Error())
		return
	}
	now := s.opts.Now()
	switch {
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.step(now, StepVerified, "")
		if !s.opts.SyncZulip {
			s.move(ch, StateDone)
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
	case now.After(ch.CreatedAt.Add(VerificationLinkValidity + verificationMargin)):
		res.Failure = newFailure(CodeLinkExpired, nil)
		s.noteError(ch, res.Failure)
		ch.Mattermost = StatusUntouched
		s.move(ch, StateExpired)
		s.finish(ctx, res)
	}
}

// followZulip brings Zulip to the address Mattermost already has: the
// bound account, by its id. Zulip already showing the address is success.
func (s *Service) followZulip(ctx context.Context, res *Result) {
	ch := &res.Change
	if s.timeUp(ch) {
		s.giveUpOnZulip(ctx, res, s.gaveUp(ch))
		s.finish(ctx, res)
		return
	}
	if !s.opts.SyncZulip {
		s.opts.Logger.Warn("account sync: Zulip sync was turned off while a change waited for Zulip; Zulip is left as it is", "change_id", ch.ID)
		ch.Zulip = StatusDisabled
		ch.NextAttemptAt = nil
		s.move(ch, StateDone)
		s.finish(ctx, res)
		return
	}
	if s.zc == nil {
		s.schedule(ch, newFailure(CodeZulipNotConfigured, nil))
		s.finish(ctx, res)
		return
	}
	user, err := s.mm.GetUser(ch.UserID)
	if err != nil {
		s.schedule(ch, newFailure(CodeMattermostFailed, err))
		s.finish(ctx, res)
		return
	}
	if !strings.EqualFold(user.Email, ch.NewEmail) {
		// Changed again by other means: Zulip must not follow this one.
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		res.Failure = f
		ch.NextAttemptAt = nil
		s.noteError(ch, f)
		ch.step(s.opts.Now(), StepSyncZulip, f.Code)
		s.move(ch, StateFailed)
		s.finish(ctx, res)
		return
	}
	if f := s.checkStillLinked(ch); f != nil {
		if f.Code == CodeInternal {
			s.schedule(ch, f)
			s.finish(ctx, res)
			return
		}
		res.Failure = f
		ch.NextAttemptAt = nil
		s.noteError(ch, f)
		ch.step(s.opts.Now(), StepSyncZulip, f.Code)
		s.save(ctx, ch)
		s.rollbackMattermost(res)
		s.finish(ctx, res)
		return
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	if err == nil && !zu.IsActive {
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
		s.opts.Logger.Warn("account sync: could not read the user of an interrupted change; trying again later", "change_id", ch.ID, "error", err.Error())
		return
	}
	now := s.opts.Now()
	s.opts.Logger.Warn("account sync: settling a change that was interrupted", "change_id", ch.ID, "user_id", ch.UserID)
	switch {
	case strings.EqualFold(user.Email, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.step(now, StepCheckInFlight, "")
		if !s.opts.SyncZulip {
			s.move(ch, StateDone)
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
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		res.Failure = f
		s.noteError(ch, f)
		ch.step(now, StepCheckInFlight, f.Code)
		s.move(ch, StateFailed)
		s.finish(ctx, res)
	}
}

// gaveUp is the failure of a change that ran out of retries.
func (s *Service) gaveUp(ch *Change) *Failure {
	f := newFailure(CodeGaveUp, nil)
	if ch.LastError != nil {
		f.Detail = string(ch.LastError.Code)
	}
	return f
}

// usageCounter reads the user's usage for counting a change made in the
// background (no limits are checked: the user was within them when asking).
func (s *Service) usageCounter(userID string) *limiter {
	if s.opts.Usage == nil || s.mm.IsSystemAdmin(userID) {
		return &limiter{userID: userID, off: true}
	}
	u, err := s.opts.Usage.Usage(userID)
	if err != nil {
		return &limiter{userID: userID, off: true}
	}
	return &limiter{userID: userID, usage: u}
}

// notify sends the user a direct message about where their change ended.
func (s *Service) notify(res Result) {
	if s.opts.Notifier == nil {
		return
	}
	msg := res.Notice()
	if msg == "" {
		return
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, msg); err != nil {
		s.opts.Logger.Warn("account sync: could not send the user a direct message", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}
