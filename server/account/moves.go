package account

import (
	"slices"
	"time"
)

// The moves of a change. Each method below is one kind of move and does
// its whole bookkeeping in one fixed order: the table is asked first, and a
// move it refuses changes nothing and returns its error; then the step is
// recorded, the systems' statuses set, the last error noted, the retry
// times set, the final code set, and last the state, by moveTo, the only
// code that writes it. None of them saves: the caller does, once.

// retryTimes is when a change waiting for Zulip is tried next, and when
// trying stops.
type retryTimes struct {
	next, giveUp time.Time
	counts       bool // a background attempt failed: it counts in Attempts
}

// to checks the move to state against the table, then does the bookkeeping
// in keep and makes the move.
func (c *Change) to(state State, now time.Time, keep func()) error {
	if !CanMove(c.State, state) {
		return &ImpossibleTransitionError{ChangeID: c.ID, From: c.State, To: state}
	}
	keep()
	c.UpdatedAt = now
	return c.moveTo(state)
}

// record notes a step of the change: failed with f's code, or passed when
// f is nil. An empty name records nothing.
func (c *Change) record(now time.Time, name string, f *Failure) {
	if name == "" {
		return
	}
	var code Code
	if f != nil {
		code = f.Code
	}
	c.step(now, name, code)
}

// noteError keeps f as the change's last error (its code and safe facts).
func (c *Change) noteError(now time.Time, f *Failure) {
	if f != nil {
		c.LastError = newLastError(f, now)
	}
}

// setRetry sets when the change is tried next (never after the give-up
// time, which is set only once).
func (c *Change) setRetry(t retryTimes) {
	if t.counts {
		c.Attempts++
	}
	if c.GiveUpAt == nil {
		giveUp := t.giveUp
		c.GiveUpAt = &giveUp
	}
	next := t.next
	if next.After(*c.GiveUpAt) {
		next = *c.GiveUpAt
	}
	c.NextAttemptAt = &next
}

// clone is a copy of the change that shares nothing with it, for a save
// ahead of a step: the change itself moves only once the copy is saved.
func (c *Change) clone() Change {
	out := *c
	out.Steps = slices.Clone(c.Steps)
	return out
}

// refuse ends a change that stopped before anything was stored.
func (c *Change) refuse(now time.Time, step string, f *Failure) error {
	return c.to(StateRefused, now, func() {
		c.record(now, step, f)
		c.Code = f.Code
	})
}

// start marks the change in flight: it is about to touch a system.
func (c *Change) start(now time.Time) error {
	return c.to(StateStarted, now, func() { c.NextAttemptAt = nil })
}

// succeed ends the change done: Mattermost has the new address, and Zulip
// has it too (zulip StatusChanged) or does not follow (StatusDisabled).
func (c *Change) succeed(now time.Time, step string, zulip SystemStatus) error {
	return c.to(StateDone, now, func() {
		c.record(now, step, nil)
		c.Mattermost, c.Zulip = StatusChanged, zulip
		c.NextAttemptAt = nil
		c.Code = ""
	})
}

// waitForLink: Mattermost mailed a confirmation link to the new address.
func (c *Change) waitForLink(now time.Time, step string) error {
	return c.to(StatePendingVerification, now, func() {
		c.record(now, step, nil)
		c.Mattermost = StatusPending
	})
}

// waitForZulip: nothing changed yet; the whole change is tried again at t.
func (c *Change) waitForZulip(now time.Time, step string, f *Failure, t retryTimes) error {
	return c.to(StateWaitingForZulip, now, func() {
		c.record(now, step, f)
		c.noteError(now, f)
		c.setRetry(t)
	})
}

// followLater: Mattermost has the new address; Zulip (in status zulip) is
// tried again at t. f is why it did not follow yet, if it was tried.
func (c *Change) followLater(now time.Time, step string, f *Failure, zulip SystemStatus, t retryTimes) error {
	return c.to(StateMattermostChanged, now, func() {
		c.record(now, step, f)
		c.Mattermost, c.Zulip = StatusChanged, zulip
		c.noteError(now, f)
		c.setRetry(t)
	})
}

// retryLater keeps the change where it is and tries it again at t.
func (c *Change) retryLater(now time.Time, f *Failure, t retryTimes) {
	c.noteError(now, f)
	c.setRetry(t)
	c.UpdatedAt = now
}

// fail ends the change for good, for f.
func (c *Change) fail(now time.Time, step string, f *Failure) error {
	return c.to(StateFailed, now, func() {
		c.record(now, step, f)
		c.noteError(now, f)
		c.NextAttemptAt = nil
		c.Code = f.Code
	})
}

// expire ends a change whose confirmation link was not opened in time.
func (c *Change) expire(now time.Time, f *Failure) error {
	return c.to(StateExpired, now, func() {
		c.Mattermost = StatusUntouched
		c.noteError(now, f)
		c.NextAttemptAt = nil
		c.Code = f.Code
	})
}

// cancel ends a change the user dropped before anything changed.
func (c *Change) cancel(now time.Time) error {
	return c.to(StateCancelled, now, func() {
		c.record(now, StepCancel, nil)
		c.NextAttemptAt = nil
		c.Code = CodeCancelled
	})
}

// rollBack ends the change with Mattermost put back; why is the code of
// the failure that made it go back. The give-up time stays on the record,
// but a rollback link's lifetime, held there while the link was out, goes.
func (c *Change) rollBack(now time.Time, step string, why Code) error {
	return c.to(StateRolledBack, now, func() {
		c.record(now, step, nil)
		c.Mattermost = StatusRolledBack
		c.NextAttemptAt = nil
		if c.State == StateRollbackPendingVerification {
			c.GiveUpAt = nil
		}
		c.Code = why
	})
}

// waitForRollbackLink: Mattermost holds putting the old address back for a
// link mailed to it, which lives until until.
func (c *Change) waitForRollbackLink(now time.Time, until time.Time) error {
	return c.to(StateRollbackPendingVerification, now, func() {
		c.record(now, StepRollbackMattermost, nil)
		c.Mattermost = StatusRollbackPending
		c.NextAttemptAt, c.GiveUpAt = nil, &until
	})
}

// attention is what an admin finds on a change that needs them: the
// systems' statuses as far as they are known ("" leaves one as it is).
// keepLastError keeps the record's last error (the failure that started
// the trouble) rather than noting f over it.
type attention struct {
	mattermost, zulip SystemStatus
	keepLastError     bool
}

// needAttention ends a change whose systems differ, or may: an admin must
// look. step is recorded as failed with f's code.
func (c *Change) needAttention(now time.Time, step string, f *Failure, a attention) error {
	return c.to(StateNeedsAttention, now, func() {
		c.record(now, step, f)
		if a.mattermost != "" {
			c.Mattermost = a.mattermost
		}
		if a.zulip != "" {
			c.Zulip = a.zulip
		}
		if !a.keepLastError {
			c.noteError(now, f)
		}
		c.NextAttemptAt = nil
		if f != nil {
			c.Code = f.Code
		}
	})
}
