package account

import (
	"context"
	"errors"
	"strings"
	"time"
)

// DefaultFlowTimeout bounds one whole change, Zulip calls included.
const DefaultFlowTimeout = 45 * time.Second

// Options configure a Service.
type Options struct {
	// SyncZulip forwards changes to Zulip. When true and Zulip is nil, every
	// change is refused with CodeZulipNotConfigured.
	SyncZulip bool
	Recorder  Recorder
	Locker    Locker
	Logger    Logger
	// Now and FlowTimeout are for tests; defaults are time.Now and DefaultFlowTimeout.
	Now         func() time.Time
	FlowTimeout time.Duration
}

// Service owns the email-change flow. The slash command and the HTTP API
// both call it.
type Service struct {
	mm   Mattermost
	zc   Zulip
	opts Options
}

// NewService wires the flow to its adapters. zc may be nil when Zulip is not
// configured.
func NewService(mm Mattermost, zc Zulip, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlowTimeout <= 0 {
		opts.FlowTimeout = DefaultFlowTimeout
	}
	if opts.Logger == nil {
		opts.Logger = nopLogger{}
	}
	return &Service{mm: mm, zc: zc, opts: opts}
}

// Request asks to change one user's email.
type Request struct {
	UserID   string
	NewEmail string // as typed; the flow normalises it
}

// Result is what happened. Change is always set (its ID empty when the
// request was refused before a record was made). Failure says why the change
// stopped; RollbackFailure why putting Mattermost back failed.
type Result struct {
	Change          Change
	Failure         *Failure
	RollbackFailure *Failure
	// Input is the address as typed (trimmed), for reports of invalid input.
	Input string
}

// ChangeEmail runs the whole flow for req: validate, check both systems,
// change Mattermost, forward to Zulip, put Mattermost back if Zulip fails.
func (s *Service) ChangeEmail(ctx context.Context, req Request) Result {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()

	now := s.opts.Now()
	res := Result{
		Input:  strings.TrimSpace(req.NewEmail),
		Change: Change{UserID: req.UserID, State: StateStarted, Mattermost: StatusUntouched, Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now},
	}
	ch := &res.Change

	user, err := s.mm.GetUser(req.UserID)
	if err != nil {
		return s.refuse(ctx, &res, StepValidate, newFailure(CodeMattermostFailed, err), false)
	}
	ch.OldEmail = user.Email
	addr, f := s.validate(user, req.NewEmail)
	if f != nil {
		return s.refuse(ctx, &res, StepValidate, f, false)
	}
	ch.NewEmail = addr

	if s.opts.Locker != nil {
		unlock, ok, err := s.opts.Locker.TryLock(ctx, user.ID)
		if err != nil {
			return s.refuse(ctx, &res, StepValidate, newFailure(CodeInternal, err), false)
		}
		if !ok {
			return s.refuse(ctx, &res, StepValidate, newFailure(CodeBusy, nil), false)
		}
		defer unlock()
	}

	ch.ID = newChangeID()
	ch.step(s.opts.Now(), StepValidate, "")
	if s.opts.Recorder != nil {
		// No record, no change: the record is what a later job resumes from.
		if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
			ch.ID = ""
			return s.refuse(ctx, &res, StepValidate, newFailure(CodeInternal, err), false)
		}
	}

	if f := s.checkMattermost(ch.NewEmail, user.ID); f != nil {
		return s.refuse(ctx, &res, StepCheckMattermost, f, true)
	}
	ch.step(s.opts.Now(), StepCheckMattermost, "")

	var target zulipTarget
	if s.opts.SyncZulip {
		var f *Failure
		target, f = s.checkZulip(ctx, ch.OldEmail, ch.NewEmail)
		if f != nil {
			return s.refuse(ctx, &res, StepCheckZulip, f, true)
		}
		ch.ZulipUserID = target.userID
		ch.step(s.opts.Now(), StepCheckZulip, "")
	}
	s.save(ctx, ch)

	if f := s.applyMattermost(ch); f != nil {
		res.Failure = f
		return s.finish(ctx, &res)
	}
	if ch.Mattermost == StatusPending {
		return s.finish(ctx, &res)
	}

	if !s.opts.SyncZulip {
		ch.State = StateDone
		return s.finish(ctx, &res)
	}
	s.syncZulip(ctx, &res, target)
	return s.finish(ctx, &res)
}

func (s *Service) initialZulipStatus() SystemStatus {
	if s.opts.SyncZulip {
		return StatusUntouched
	}
	return StatusDisabled
}

// validate checks the request against the user before anything else and
// returns the normalised address.
func (s *Service) validate(user User, raw string) (string, *Failure) {
	if user.IsBot {
		return "", newFailure(CodeBotAccount, nil)
	}
	if user.AuthService != "" {
		f := newFailure(CodeManagedBySSO, nil)
		f.Detail = user.AuthService
		return "", f
	}
	addr, err := NormalizeAddress(raw, s.mm.ValidEmail)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return "", f
		}
		return "", newFailure(CodeAddressInvalid, err)
	}
	if strings.EqualFold(addr, user.Email) {
		return "", newFailure(CodeSameAddress, nil)
	}
	if s.opts.SyncZulip && s.zc == nil {
		return "", newFailure(CodeZulipNotConfigured, nil)
	}
	return addr, nil
}

// refuse ends a change that stopped before anything was changed.
func (s *Service) refuse(ctx context.Context, res *Result, step string, f *Failure, record bool) Result {
	res.Failure = f
	res.Change.State = StateRefused
	res.Change.Code = f.Code
	res.Change.step(s.opts.Now(), step, f.Code)
	s.logFailure("account sync: email change refused", res.Change, f)
	if record {
		s.save(ctx, &res.Change)
	}
	return *res
}

// finish records the final state and logs it.
func (s *Service) finish(ctx context.Context, res *Result) Result {
	ch := &res.Change
	if res.Failure != nil {
		ch.Code = res.Failure.Code
	}
	s.save(ctx, ch)
	kv := []any{"change_id", ch.ID, "user_id", ch.UserID, "old_email", ch.OldEmail, "new_email", ch.NewEmail,
		"state", string(ch.State), "mattermost", string(ch.Mattermost), "zulip", string(ch.Zulip)}
	switch {
	case ch.State == StateNeedsAttention:
		s.opts.Logger.Error("account sync: email change left Mattermost and Zulip different; fix by hand", append(kv, s.errKV(res)...)...)
	case res.Failure != nil:
		s.opts.Logger.Warn("account sync: email change failed", append(kv, s.errKV(res)...)...)
	default:
		s.opts.Logger.Info("account sync: email change", kv...)
	}
	return *res
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
	kv := []any{"user_id", ch.UserID, "code", string(f.Code)}
	if ch.ID != "" {
		kv = append(kv, "change_id", ch.ID)
	}
	if f.Err != nil {
		kv = append(kv, "error", errString(f))
	}
	if f.Code.ForAdmin() {
		s.opts.Logger.Error(msg, kv...)
		return
	}
	s.opts.Logger.Info(msg, kv...)
}

func (s *Service) save(ctx context.Context, ch *Change) {
	if s.opts.Recorder == nil || ch.ID == "" {
		return
	}
	if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
		s.opts.Logger.Error("account sync: could not save the change record", "change_id", ch.ID, "error", err.Error())
	}
}

func errString(f *Failure) string {
	if f.Err == nil {
		return string(f.Code)
	}
	return f.Err.Error()
}

type nopLogger struct{}

func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
