package account

import (
	"context"
	"errors"
	"time"
)

// This file is what is kept of a change: its record, the log line and the
// audit event of every outcome.

// refuse ends a change that stopped before anything was changed. It is
// logged, not stored: nothing happened that needs a record.
func (s *Service) refuse(res *Result, step string, f *Failure) Result {
	res.Failure = f
	s.moved(res.Change.refuse(s.opts.Now(), step, f))
	s.logFailure("account sync: email change refused", res.Change, f)
	s.audit(res)
	res.recorded = true
	return *res
}

// finish saves the record and logs it: once per entry point (a request,
// one advance of the job).
func (s *Service) finish(ctx context.Context, res *Result) Result {
	if res.recorded || res.Change.State == StateRefused {
		return *res // refused (logged, never stored), or saved and logged already
	}
	if s.save(ctx, &res.Change) {
		s.agreeOnEndOf(res)
	}
	s.logChange(res)
	return *res
}

// moved logs a move the table refused (a bug, or a race): the change is
// left as it was. It reports whether the move was made.
func (s *Service) moved(err error) bool {
	if err == nil {
		return true
	}
	var ite *ImpossibleTransitionError
	if errors.As(err, &ite) {
		s.opts.Logger.Error("account sync: impossible state change refused", "change_id", ite.ChangeID, "from", ite.From.name(), "to", ite.To.name())
	} else {
		s.opts.Logger.Error("account sync: a change could not move", "error", err.Error())
	}
	return false
}

// logChange writes one line about where the change stands, and audits it.
func (s *Service) logChange(res *Result) {
	ch := &res.Change
	s.audit(res)
	kv := []any{"change_id", ch.ID, "user_id", ch.UserID, "old_email", ch.OldEmail, "new_email", ch.NewEmail,
		"state", string(ch.State), "mattermost", string(ch.Mattermost), "zulip", string(ch.Zulip)}
	if ch.NextAttemptAt != nil {
		kv = append(kv, "attempts", ch.Attempts, "next_attempt_at", ch.NextAttemptAt.UTC().Format(time.RFC3339))
	}
	switch {
	case ch.State == StateNeedsAttention:
		s.opts.Logger.Error("account sync: email change left Mattermost and Zulip different; fix by hand", append(kv, s.errKV(res)...)...)
	case ch.State.Open() && res.Failure != nil:
		s.opts.Logger.Warn("account sync: email change waits for Zulip", append(kv, s.errKV(res)...)...)
	case res.Failure != nil && res.Failure.Code.ForAdmin():
		// Something only an admin can fix: the same level as a refusal for it.
		s.opts.Logger.Error("account sync: email change failed", append(kv, s.errKV(res)...)...)
	case res.Failure != nil:
		s.opts.Logger.Warn("account sync: email change failed", append(kv, s.errKV(res)...)...)
	case !s.opts.AuditIsLogged:
		s.opts.Logger.Info("account sync: email change", kv...)
	}
}

func (s *Service) errKV(res *Result) []any {
	var kv []any
	if res.Failure != nil {
		kv = append(kv, "code", string(res.Failure.Code), "error", errString(res.Failure))
	}
	if res.RollbackFailure != nil {
		kv = append(kv, "rollback_code", string(res.RollbackFailure.Code), "rollback_error", errString(res.RollbackFailure))
	}
	return kv
}

func (s *Service) logFailure(msg string, ch Change, f *Failure) {
	kv := []any{"user_id", ch.UserID, "code", string(f.Code), "change_id", ch.ID}
	if f.Err != nil {
		kv = append(kv, "error", errString(f))
	}
	if f.Code.ForAdmin() {
		s.opts.Logger.Error(msg, kv...)
		return
	}
	s.opts.Logger.Info(msg, kv...)
}

// audit records a request's outcome.
func (s *Service) audit(res *Result) {
	ch := res.Change
	e := AuditEvent{ChangeID: ch.ID, ActorID: ch.RequestedBy, UserID: ch.UserID, OldEmail: ch.OldEmail, NewEmail: ch.NewEmail, Outcome: string(ch.State), Origin: ch.Origin}
	if ch.State != StateRefused {
		e.Mattermost, e.Zulip = ch.Mattermost, ch.Zulip
	}
	if ch.NextAttemptAt != nil {
		e.Attempts, e.NextAttemptAt = ch.Attempts, ch.NextAttemptAt
	}
	if res.Failure != nil {
		e.Code = res.Failure.Code
	}
	switch ch.State {
	case StateDone, StateWaitingForZulip, StatePendingVerification, StateMattermostChanged, StateStarted:
		e.Success = true
	}
	if e.NewEmail == "" {
		e.NewEmail = res.Input // refused before the address was valid
	}
	s.opts.Auditor.Audit(e)
}

// saveAhead saves a change before the step it announces; nil when there
// is no store.
func (s *Service) saveAhead(ctx context.Context, ch *Change) error {
	return s.opts.Recorder.SaveChange(ctx, ch)
}

func (s *Service) save(ctx context.Context, ch *Change) bool {
	if ch.ID == "" {
		return true
	}
	if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
		s.opts.Logger.Error("account sync: could not save the change record", "change_id", ch.ID, "error", err.Error())
		return false
	}
	return true
}

func errString(f *Failure) string {
	if f.Err == nil {
		return string(f.Code)
	}
	return f.Err.Error()
}
