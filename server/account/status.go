package account

import (
	"context"
	"time"
)

// StatusReport is the user's open or last change, for /account status.
type StatusReport struct {
	Change  Change
	Found   bool      // the user has a change on record
	Failure *Failure  // the record could not be read (CodeInternal)
	Now     time.Time // when it was read, for "next try in ..."
}

// Status returns the user's open or last change.
func (s *Service) Status(userID string) StatusReport {
	now := s.opts.Now()
	ch, ok, err := s.opts.Recorder.LatestChange(userID)
	if err != nil {
		s.opts.Logger.Error("account sync: could not read the user's latest change", "user_id", userID, "error", err.Error())
		return StatusReport{Failure: newFailure(CodeInternal, err), Now: now}
	}
	return StatusReport{Change: ch, Found: ok, Now: now}
}

// CancelOutcome is what /account cancel did.
type CancelOutcome int

// What /account cancel can do.
const (
	CancelOutcomeFailed         CancelOutcome = iota // could not read or save: see the log
	CancelOutcomeCancelled                           // a change waiting for Zulip was dropped
	CancelOutcomeNothingOpen                         // no open change
	CancelOutcomePendingLink                         // waits on a confirmation link: expires by itself
	CancelOutcomeAlreadyChanged                      // Mattermost changed already: Zulip follows
	CancelOutcomeBusy                                // being made right now
	CancelOutcomeRefused                             // the session may not ask
	CancelOutcomeRollbackLink                        // Zulip refused; the old address waits for its link
)

// CancelResult is the outcome of Cancel and the change it looked at.
type CancelResult struct {
	Outcome CancelOutcome
	Change  Change
	Failure *Failure // why it was refused
}

// Cancel drops the user's open change if it has not changed anything yet.
func (s *Service) Cancel(ctx context.Context, userID, sessionID string) CancelResult {
	if f := s.CheckSession(userID, sessionID); f != nil {
		return CancelResult{Outcome: CancelOutcomeRefused, Failure: f}
	}
	unlock, f := s.lockUser(ctx, userID)
	switch {
	case f != nil && f.Code == CodeBusy:
		return CancelResult{Outcome: CancelOutcomeBusy}
	case f != nil:
		s.opts.Logger.Error("account sync: cancel could not take the user's lock", "user_id", userID, "error", errString(f))
		return CancelResult{Outcome: CancelOutcomeFailed}
	}
	defer unlock()
	ch, ok, err := s.opts.Recorder.LatestChange(userID)
	if err != nil {
		s.opts.Logger.Error("account sync: cancel could not read the user's latest change", "user_id", userID, "error", err.Error())
		return CancelResult{Outcome: CancelOutcomeFailed}
	}
	res := CancelResult{Change: ch}
	switch {
	case !ok || !ch.State.Open():
		res.Outcome = CancelOutcomeNothingOpen
	case ch.State == StatePendingVerification:
		res.Outcome = CancelOutcomePendingLink
	case ch.State == StateMattermostChanged:
		res.Outcome = CancelOutcomeAlreadyChanged
	case ch.State == StateRollbackPendingVerification:
		res.Outcome = CancelOutcomeRollbackLink
	case ch.State == StateStarted:
		res.Outcome = CancelOutcomeBusy
	case s.moved(ch.cancel(s.opts.Now())):
		if err := s.opts.Recorder.SaveChange(ctx, &ch); err != nil {
			s.opts.Logger.Error("account sync: could not save a cancelled change", "change_id", ch.ID, "error", err.Error())
			return CancelResult{Outcome: CancelOutcomeFailed, Change: res.Change}
		}
		s.agreeOnEnd(&ch)
		s.opts.Logger.Info("account sync: email change cancelled by the user", "change_id", ch.ID, "user_id", userID)
		res.Change, res.Outcome = ch, CancelOutcomeCancelled
	default:
		res.Outcome = CancelOutcomeFailed
	}
	return res
}
