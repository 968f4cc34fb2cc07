package account

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Time bounds of one change. The flow (checks, Mattermost, the final Zulip
// PATCH) has DefaultFlowTimeout; settling a lost answer has its own
// DefaultSettleTimeout after that. MaxDuration is the most a change can take;
// the per-user lock must outlive it by a wide margin.
const (
	DefaultFlowTimeout   = 45 * time.Second
	DefaultSettleTimeout = 30 * time.Second
	MaxDuration          = DefaultFlowTimeout + DefaultSettleTimeout
)

// Options configure a Service.
type Options struct {
	// SyncZulip forwards changes to Zulip. When true and Zulip is nil, every
	// change is refused with CodeZulipNotConfigured.
	SyncZulip bool
	// AllowOAuth lets sessions created by OAuth 2.0 apps change emails.
	AllowOAuth bool
	// MaxChangesPerDay limits a user's changes over a rolling 24 hours; 0
	// means no limit. System admins are exempt.
	MaxChangesPerDay int

	Recorder  Recorder
	Locker    Locker
	Bindings  Bindings
	LinkCodes LinkCodes
	Usage     Usage // nil: no limits
	Logger    Logger
	// Now, FlowTimeout and SettleTimeout are for tests; defaults are
	// time.Now, DefaultFlowTimeout and DefaultSettleTimeout.
	Now           func() time.Time
	FlowTimeout   time.Duration
	SettleTimeout time.Duration
}

// Service owns the email-change flow and the account bindings. The slash
// command and the HTTP API both call it.
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
	if opts.SettleTimeout <= 0 {
		opts.SettleTimeout = DefaultSettleTimeout
	}
	if opts.Logger == nil {
		opts.Logger = nopLogger{}
	}
	return &Service{mm: mm, zc: zc, opts: opts}
}

// Request asks to change the caller's own email.
type Request struct {
	UserID    string
	SessionID string // the caller's Mattermost session
	NewEmail  string // as typed; the flow normalises it
}

// Result is what happened. Change is always set; it is stored only once the
// flow is about to change something (refusals before that are only
// logged). Failure says why the change stopped; RollbackFailure why putting
// Mattermost back failed.
type Result struct {
	Change          Change
	Failure         *Failure
	RollbackFailure *Failure
	// Input is the address as typed (trimmed), for reports of invalid input.
	Input string
}

// ChangeEmail runs the whole flow for req: check who asks, validate, take
// the user's lock, check both systems and the caller's Zulip account,
// record, change Mattermost, forward to Zulip, put Mattermost back if Zulip
// refuses.
func (s *Service) ChangeEmail(ctx context.Context, req Request) Result {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()

	now := s.opts.Now()
	res := Result{
		Input: strings.TrimSpace(req.NewEmail),
		Change: Change{ID: newChangeID(), UserID: req.UserID, State: StateStarted, Mattermost: StatusUntouched,
			Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now},
	}
	ch := &res.Change

	if f := s.checkSession(req); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	addr, err := NormalizeAddress(req.NewEmail, s.mm.ValidEmail)
	if err != nil {
		return s.refuse(&res, StepValidate, asFailure(err, CodeAddressInvalid))
	}
	ch.NewEmail = addr
	if s.opts.SyncZulip && s.zc == nil {
		return s.refuse(&res, StepValidate, newFailure(CodeZulipNotConfigured, nil))
	}

	if s.opts.Locker != nil {
		unlock, ok, err := s.opts.Locker.TryLock(ctx, req.UserID)
		if err != nil {
			return s.refuse(&res, StepValidate, newFailure(CodeInternal, err))
		}
		if !ok {
			return s.refuse(&res, StepValidate, newFailure(CodeBusy, nil))
		}
		defer unlock()
	}

	// Read the user under the lock, so no other change of theirs runs
	// between this read and the write.
	user, err := s.mm.GetUser(req.UserID)
	if err != nil {
		return s.refuse(&res, StepValidate, newFailure(CodeMattermostFailed, err))
	}
	ch.OldEmail = user.Email
	if f := s.validateUser(user, addr); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	lim, f := s.checkLimits(user.ID)
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	ch.step(s.opts.Now(), StepValidate, "")

	if f := s.checkMattermost(ch.NewEmail, user.ID); f != nil {
		return s.refuse(&res, StepCheckMattermost, f)
	}
	ch.step(s.opts.Now(), StepCheckMattermost, "")

	var target zulipTarget
	if s.opts.SyncZulip {
		lim.countAttempt(s)
		target, f = s.checkZulip(ctx, user, ch)
		if f != nil {
			return s.refuse(&res, StepCheckZulip, f)
		}
		ch.ZulipUserID = target.userID
		ch.step(s.opts.Now(), StepCheckZulip, "")
	}

	// Write ahead: no record, no change. The record is what an admin and a
	// later job work from.
	if s.opts.Recorder != nil {
		if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
			return s.refuse(&res, StepCheckZulip, newFailure(CodeInternal, err))
		}
	}

	if f := s.applyMattermost(ch); f != nil {
		res.Failure = f
		return s.finish(ctx, &res)
	}
	lim.countChange(s)
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

// validateUser checks the caller's account against the request.
func (s *Service) validateUser(user User, addr string) *Failure {
	if user.IsBot {
		return newFailure(CodeBotAccount, nil)
	}
	if user.AuthService != "" {
		f := newFailure(CodeManagedBySSO, nil)
		f.Detail = user.AuthService
		return f
	}
	if strings.EqualFold(addr, user.Email) {
		return newFailure(CodeSameAddress, nil)
	}
	return nil
}

func asFailure(err error, fallback Code) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return newFailure(fallback, err)
}

// refuse ends a change that stopped before anything was changed. It is
// logged, not stored: nothing happened that needs a record.
func (s *Service) refuse(res *Result, step string, f *Failure) Result {
	res.Failure = f
	res.Change.State = StateRefused
	res.Change.Code = f.Code
	res.Change.step(s.opts.Now(), step, f.Code)
	s.logFailure("account sync: email change refused", res.Change, f)
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
	case res.Failure != nil && res.Failure.Code.ForAdmin():
		// Something only an admin can fix: the same level as a refusal for it.
		s.opts.Logger.Error("account sync: email change failed", append(kv, s.errKV(res)...)...)
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
