package account

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Time bounds of one change. The flow (checks, Mattermost, the Zulip
// PATCH) has DefaultFlowTimeout; a lost answer is settled by the job, not
// waited for. MaxDuration is the most a change can take; the per-user lock
// must outlive it by a wide margin.
const (
	DefaultFlowTimeout = 45 * time.Second
	MaxDuration        = DefaultFlowTimeout
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

	// RetryFor is how long after it was asked for a change is retried in
	// the background (default DefaultRetryFor). RetryFirst and RetryMax
	// bound the backoff between tries (defaults DefaultRetryFirst and
	// DefaultRetryMax); Jitter spreads the tries (nil: none).
	RetryFor   time.Duration
	RetryFirst time.Duration
	RetryMax   time.Duration
	Jitter     func(span time.Duration) time.Duration

	Recorder Recorder
	Notifier Notifier // nil: no direct messages
	Auditor  Auditor  // nil: no audit records
	// AllowedDomainsInvalid are the entries of the allowed-domains setting
	// that are not domains (the whole setting when it names none). When
	// there are any, every change is refused with CodeDomainsMisconfigured:
	// guessing what the admin meant could let in any domain.
	AllowedDomainsInvalid []string
	// AllowedDomains, when not empty, are the only domains a new address
	// may have (lower case), on top of the server's own restriction.
	AllowedDomains []string
	Locker         Locker
	Bindings       Bindings
	LinkCodes      LinkCodes
	Usage          Usage // nil: no limits
	// ZulipHost is the Zulip site's host name: new addresses of Zulip's
	// id-based form user{ID}@{ZulipHost} are refused.
	ZulipHost string
	// Facts remembers what is the same for every change (Zulip's version,
	// the bot's permission); nil: every change asks Zulip again.
	Facts  *ZulipFacts
	Logger Logger
	// Now and FlowTimeout are for tests; defaults are time.Now and
	// DefaultFlowTimeout.
	Now         func() time.Time
	FlowTimeout time.Duration
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
	if opts.Logger == nil {
		opts.Logger = nopLogger{}
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = DefaultRetryFor
	}
	if opts.RetryFirst <= 0 {
		opts.RetryFirst = DefaultRetryFirst
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	if opts.Facts == nil {
		opts.Facts = NewZulipFacts(0)
	}
	return &Service{mm: mm, zc: zc, opts: opts}
}

// Request asks to change a user's email: the caller's own, or, for a
// system admin, another user's.
type Request struct {
	UserID    string // whose email changes
	ActorID   string // who asks, when not the user: a system admin
	SessionID string // the asker's Mattermost session
	NewEmail  string // as typed; the flow normalises it
}

// actor is who asks.
func (r Request) actor() string {
	if r.ActorID != "" {
		return r.ActorID
	}
	return r.UserID
}

// onBehalf tells a change an admin asks for another user.
func (r Request) onBehalf() bool { return r.ActorID != "" && r.ActorID != r.UserID }

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
	// Open is the user's open change that stopped this one, if any.
	Open *Change
}

// ChangeEmail runs the whole flow for req: check who asks, validate, take
// the user's lock, make sure no other change of theirs is open, check both
// systems and the caller's Zulip account, record, change Mattermost, forward
// to Zulip, put Mattermost back if Zulip refuses. When Zulip cannot be
// reached, the change is saved and the background job makes it later.
func (s *Service) ChangeEmail(ctx context.Context, req Request) Result {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()

	now := s.opts.Now()
	res := Result{
		Input: strings.TrimSpace(req.NewEmail),
		Change: Change{ID: newChangeID(), UserID: req.UserID, RequestedBy: req.actor(), State: StateNew, Mattermost: StatusUntouched,
			Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now},
	}
	ch := &res.Change

	if f := s.gate(req.actor(), req.SessionID); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	if req.onBehalf() && !s.mm.IsSystemAdmin(req.ActorID) {
		return s.refuse(&res, StepValidate, newFailure(CodeAdminOnly, nil))
	}
	if f := s.onBehalfGate(req); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	addr, err := NormalizeAddress(req.NewEmail, s.mm.ValidEmail)
	if err != nil {
		return s.refuse(&res, StepValidate, asFailure(err, CodeAddressInvalid))
	}
	ch.NewEmail = addr
	if isZulipDummyAddress(addr, s.opts.ZulipHost) {
		return s.refuse(&res, StepValidate, newFailure(CodeZulipDummyAddress, nil))
	}
	if f := s.domainAllowed(addr); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	if s.opts.SyncZulip && s.zc == nil {
		return s.refuse(&res, StepValidate, newFailure(CodeZulipNotConfigured, nil))
	}

	unlock, f := s.lockUser(ctx, req.UserID)
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	defer unlock()

	// Read the user under the lock, so no other change of theirs runs
	// between this read and the write.
	user, err := s.mm.GetUser(req.UserID)
	if err != nil {
		return s.refuse(&res, StepValidate, newFailure(CodeMattermostFailed, err))
	}
	ch.OldEmail = user.Email
	if f := s.checkOpenChange(user.ID, &res); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	if f := s.validateUser(user, addr); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	lim, f := s.checkLimits(user.ID)
	if req.onBehalf() {
		lim, f = &limiter{userID: user.ID, off: true}, nil // an admin's change for someone
	}
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	ch.step(s.opts.Now(), StepValidate, "")
	out := s.attempt(ctx, &res, user, lim)
	if out.Change.State == StateRollbackPendingVerification {
		s.notify(out) // which link to open, kept where the reply is not
	}
	if req.onBehalf() && out.Change.State != StateRefused {
		s.notifyOnBehalf(out)
	}
	return out
}

// notifyOnBehalf tells a user that an admin changed, or started to change,
// their email.
func (s *Service) notifyOnBehalf(res Result) {
	if s.opts.Notifier == nil {
		return
	}
	admin := res.Change.RequestedBy
	if u, err := s.mm.GetUser(admin); err == nil && u.Username != "" {
		admin = "@" + u.Username
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, res.OnBehalfNotice(admin)); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the user about an admin's change", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}

// attempt checks both systems and then makes the change. The command runs
// it once; the job runs it again for a change waiting for Zulip.
func (s *Service) attempt(ctx context.Context, res *Result, user User, lim *limiter) Result {
	ch := &res.Change
	if f := s.checkMattermost(ch.NewEmail, user.ID); f != nil {
		return s.stop(ctx, res, StepCheckMattermost, f)
	}
	ch.step(s.opts.Now(), StepCheckMattermost, "")

	var target zulipTarget
	if s.opts.SyncZulip {
		if ch.State == StateNew {
			lim.countAttempt(s) // the job's own tries do not count against the user
		}
		var f *Failure
		target, f = s.checkZulip(ctx, user, ch)
		if f != nil {
			if retryable(f) && s.opts.Recorder != nil {
				return s.wait(ctx, res, f)
			}
			return s.stop(ctx, res, StepCheckZulip, f)
		}
		ch.ZulipUserID = target.userID
		ch.step(s.opts.Now(), StepCheckZulip, "")
	}

	// Write ahead: no record, no change. The record is what an admin and
	// the job work from.
	wasNew := ch.State == StateNew
	s.move(ch, StateStarted)
	ch.NextAttemptAt = nil
	if s.opts.Recorder != nil {
		if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
			if wasNew {
				ch.State = StateNew
				return s.refuse(res, StepCheckZulip, newFailure(CodeInternal, err))
			}
			// Another writer has the record: leave it to them.
			s.opts.Logger.Error("account sync: could not save the change record; leaving the change", "change_id", ch.ID, "error", err.Error())
			res.Failure = newFailure(CodeInternal, err)
			return *res
		}
	}

	if f := s.applyMattermost(ch); f != nil {
		res.Failure = f
		return s.finish(ctx, res)
	}
	lim.countChange(s)
	if ch.Mattermost == StatusPending {
		return s.finish(ctx, res)
	}

	if !s.opts.SyncZulip {
		s.move(ch, StateDone)
		return s.finish(ctx, res)
	}
	s.syncZulip(ctx, res, target)
	return s.finish(ctx, res)
}

// stop ends a change that changed nothing: a new one is refused (and not
// stored), one waiting in the background fails for good.
func (s *Service) stop(ctx context.Context, res *Result, step string, f *Failure) Result {
	if res.Change.State == StateNew {
		return s.refuse(res, step, f)
	}
	ch := &res.Change
	ch.step(s.opts.Now(), step, f.Code)
	res.Failure = f
	s.noteError(ch, f)
	ch.NextAttemptAt = nil
	s.move(ch, StateFailed)
	return s.finish(ctx, res)
}

// wait saves a change Zulip could not take for now, nothing changed, for the
// job to try again.
func (s *Service) wait(ctx context.Context, res *Result, f *Failure) Result {
	ch := &res.Change
	ch.step(s.opts.Now(), StepCheckZulip, f.Code)
	res.Failure = f
	if s.timeUp(ch) {
		ch.NextAttemptAt = nil
		s.noteError(ch, f)
		s.move(ch, StateFailed)
		return s.finish(ctx, res)
	}
	s.schedule(ch, f)
	wasNew := ch.State == StateNew
	s.move(ch, StateWaitingForZulip)
	if wasNew {
		if err := s.opts.Recorder.SaveChange(ctx, ch); err != nil {
			// Not saved: tell the user to try again, as before.
			ch.State = StateNew
			s.opts.Logger.Error("account sync: could not save a change for later", "change_id", ch.ID, "error", err.Error())
			return s.refuse(res, StepCheckZulip, f)
		}
		s.logChange(res)
		return *res
	}
	return s.finish(ctx, res)
}

// lockUser takes the user's lock: CodeBusy when another change, link or
// job run holds it. The returned unlock is never nil.
func (s *Service) lockUser(ctx context.Context, userID string) (func(), *Failure) {
	if s.opts.Locker == nil {
		return func() {}, nil
	}
	unlock, ok, err := s.opts.Locker.TryLock(ctx, userID)
	switch {
	case err != nil:
		return nil, newFailure(CodeInternal, err)
	case !ok:
		return nil, newFailure(CodeBusy, nil)
	default:
		return unlock, nil
	}
}

// checkOpenChange refuses a new change while another one of the user's is
// open.
func (s *Service) checkOpenChange(userID string, res *Result) *Failure {
	if s.opts.Recorder == nil {
		return nil
	}
	open, ok, err := s.opts.Recorder.LatestChange(userID)
	switch {
	case err != nil:
		return newFailure(CodeInternal, err)
	case ok && open.State.Open():
		res.Open = &open
		return newFailure(CodeChangeOpen, nil)
	default:
		return nil
	}
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
	if user.Deactivated {
		return newFailure(CodeUserDeactivated, nil)
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
	s.audit(res)
	return *res
}

// finish saves the record and logs it.
func (s *Service) finish(ctx context.Context, res *Result) Result {
	ch := &res.Change
	if res.Failure != nil && !ch.State.Open() {
		ch.Code = res.Failure.Code
	}
	s.save(ctx, ch)
	s.logChange(res)
	return *res
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
	default:
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

// domainAllowed applies the plugin's AllowedDomains setting; a setting that
// cannot be used refuses every address.
func (s *Service) domainAllowed(addr string) *Failure {
	if bad := s.opts.AllowedDomainsInvalid; len(bad) > 0 {
		return newFailure(CodeDomainsMisconfigured, errors.New("the allowed email domains setting has entries that are not domains: "+strings.Join(bad, ", ")))
	}
	if len(s.opts.AllowedDomains) == 0 {
		return nil
	}
	domain := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	if !slices.Contains(s.opts.AllowedDomains, domain) {
		return newFailure(CodeDomainNotAllowed, errors.New("not in the plugin's allowed domains"))
	}
	return nil
}

// audit records a request's outcome.
func (s *Service) audit(res *Result) {
	if s.opts.Auditor == nil {
		return
	}
	ch := res.Change
	e := AuditEvent{ChangeID: ch.ID, ActorID: ch.RequestedBy, UserID: ch.UserID, OldEmail: ch.OldEmail, NewEmail: ch.NewEmail, Outcome: string(ch.State)}
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

func (s *Service) save(ctx context.Context, ch *Change) bool {
	if s.opts.Recorder == nil || ch.ID == "" {
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

type nopLogger struct{}

func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
