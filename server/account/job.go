package account

import (
	"context"
	"time"
)

// Step names the job adds to a record.
const (
	StepVerified      = "verified"        // the confirmation link was opened
	StepCheckInFlight = "check_in_flight" // an interrupted change was read back from both systems
	StepCancel        = "cancel"          // the user dropped the change
	// StepRollbackVerified: the link that puts the old address back in
	// Mattermost was opened.
	StepRollbackVerified = "rollback_verified"
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
		moved, busy := s.advance(ctx, e)
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
	open, err := s.opts.Recorder.OpenChanges()
	if err != nil {
		return time.Time{}, false
	}
	for _, e := range open {
		var t time.Time
		switch {
		case e.State == StatePendingVerification, e.State == StateRollbackPendingVerification:
			continue // checked on every regular run
		case e.State == StateStarted && e.NextAttemptAt == nil:
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
	case StatePendingVerification, StateRollbackPendingVerification:
		return true // one read of the user: has the link been opened?
	case StateStarted:
		if next != nil { // an interrupted change the job could not settle yet
			return !now.Before(*next)
		}
		return now.Sub(updated) > interruptedAfter
	default:
		return next == nil || !now.Before(*next)
	}
}

// advance moves one change on, under its user's lock. moved is false when
// nothing was saved; busy when the lock was taken (a command is running).
func (s *Service) advance(ctx context.Context, e OpenChange) (moved, busy bool) {
	id, userID := e.ID, e.UserID
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	unlock, ok, err := s.opts.Locker.TryLock(ctx, userID)
	if err != nil {
		s.opts.Logger.Error("account sync: the job could not take a user's lock", "user_id", userID, "change_id", id, "error", err.Error())
		return false, false
	}
	if !ok {
		return false, true
	}
	defer unlock()
	ch, ok, err := s.opts.Recorder.GetChange(id)
	switch {
	case err != nil:
		s.opts.Logger.Error("account sync: the job could not read a change", "change_id", id, "error", err.Error())
		return false, false
	case !ok:
		if err := s.opts.Recorder.DropOpen(e); err != nil {
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
	if !s.follow(ctx, &res) {
		return false, false
	}
	s.finish(ctx, &res)
	after := res.Change.State
	if after != before && (!after.Open() || after == StatePendingVerification || after == StateRollbackPendingVerification) {
		s.notify(res)
	}
	return after != before || res.Change.Attempts != ch.Attempts, false
}

// followers is what the job does with a change in each open state.
var followers = map[State]func(s *Service, ctx context.Context, res *Result) bool{
	StateWaitingForZulip:             (*Service).retryChange,
	StatePendingVerification:         (*Service).followVerification,
	StateMattermostChanged:           (*Service).followZulip,
	StateStarted:                     (*Service).settleInterrupted,
	StateRollbackPendingVerification: (*Service).followRollback,
}

// follow moves res.Change one step on; false when there is nothing to
// record.
func (s *Service) follow(ctx context.Context, res *Result) bool {
	f, ok := followers[res.Change.State]
	return ok && f(s, ctx, res)
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
	if s.mm.IsSystemAdmin(userID) {
		return &limiter{userID: userID, off: true}
	}
	u, err := s.opts.Usage.Usage(userID)
	if err != nil {
		return &limiter{userID: userID, off: true}
	}
	return &limiter{userID: userID, usage: u}
}
