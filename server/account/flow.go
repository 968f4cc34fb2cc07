package account

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// This file is the flow of one request, from the request to its result:
// the gates, the checks of both systems, the write-ahead record, the
// change in Mattermost and in Zulip.

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
		Change: Change{ID: newChangeID(), UserID: req.UserID, RequestedBy: req.actor(), Mattermost: StatusUntouched,
			Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now},
	}
	ch := &res.Change

	lock := s.lockAhead(ctx, req) // a user's own change: side by side with the gates
	defer lock.release()          // unless taken: refused by a gate, or a gate panicked
	if f := s.gates(req, ch); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	unlock, f := lock.take(ctx)
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	defer unlock()
	addr := ch.NewEmail

	// Read the user under the lock, so no other change of theirs runs
	// between this read and the write; the reads are side by side, their
	// answers taken in the order of the checks.
	r := s.readUnderLock(req.UserID, addr)
	user, err := r.user, r.userErr
	if err != nil {
		return s.refuse(&res, StepValidate, newFailure(CodeMattermostFailed, err))
	}
	ch.OldEmail = user.Email
	if f := openChangeFrom(r.latest, r.latestOK, r.latestErr, &res); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	if f := s.validateUser(user, addr); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	res.addrChecked, res.linkRead = &r.addr, r.link
	lim, f := s.limitsFrom(user.ID, r.usage, r.usageErr)
	if req.onBehalf() {
		lim, f = &limiter{userID: user.ID, off: true}, nil // an admin's change for someone
	}
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	lim.held = true
	defer lim.flush(s) // before the lock is let go
	ch.record(s.opts.Now(), StepValidate, nil)
	s.attempt(ctx, &res, user, lim)
	out := s.finish(ctx, &res)
	if out.Change.State == StateRollbackPendingVerification {
		s.notify(out) // which link to open, kept where the reply is not
	}
	if req.onBehalf() && out.Change.State != StateRefused {
		s.notifyOnBehalf(out)
	}
	return out
}

// gates checks who asks and what: the session, an admin's right to act
// for someone, the address. It notes the address in ch.
func (s *Service) gates(req Request, ch *Change) *Failure {
	if f := s.CheckSession(req.actor(), req.SessionID); f != nil {
		return f
	}
	if req.onBehalf() && !s.mm.IsSystemAdmin(req.ActorID) {
		return newFailure(CodeAdminOnly, nil)
	}
	if f := s.onBehalfGate(req); f != nil {
		return f
	}
	addr, err := NormalizeAddress(req.NewEmail, s.mm.ValidEmail)
	if err != nil {
		return asFailure(err, CodeAddressInvalid)
	}
	ch.NewEmail = addr
	if isZulipDummyAddress(addr, s.opts.ZulipHost) {
		return newFailure(CodeZulipDummyAddress, nil)
	}
	if f := s.domainAllowed(addr); f != nil {
		return f
	}
	if s.opts.SyncZulip && s.zc == nil {
		return newFailure(CodeZulipNotConfigured, nil)
	}
	return nil
}

// attempt checks both systems and then makes the change. The command runs
// it once; the job runs it again for a change waiting for Zulip. Its entry
// point finishes the change.
func (s *Service) attempt(ctx context.Context, res *Result, user User, lim *limiter) {
	ch := &res.Change
	var f *Failure
	if res.addrChecked != nil {
		f, res.addrChecked = *res.addrChecked, nil // read with the user; a try after this one reads again
	} else {
		f = s.checkMattermost(ch.NewEmail, user.ID)
	}
	if f != nil {
		s.stop(res, StepCheckMattermost, f)
		return
	}
	ch.record(s.opts.Now(), StepCheckMattermost, nil)

	var target zulipTarget
	if s.opts.SyncZulip {
		if ch.State == StateNew {
			lim.countAttempt(s) // the job's own tries do not count against the user
		}
		var f *Failure
		if res.known != nil {
			target, f = *res.known, s.zulipReady(ctx)
		} else {
			target, f = s.checkZulip(ctx, user, ch, res.takeLink())
		}
		if f != nil {
			if retryable(f) {
				s.wait(ctx, res, f)
				return
			}
			s.stop(res, StepCheckZulip, f)
			return
		}
		if ch.Origin == OriginZulipElsewhere && !target.alreadyChanged {
			// Applied from Zulip, which has moved on since: Zulip is never
			// changed for it, nor Mattermost moved to what Zulip dropped.
			s.stop(res, StepCheckZulip, newFailure(CodeZulipMovedOn, nil))
			return
		}
		ch.ZulipUserID = target.userID
		ch.record(s.opts.Now(), StepCheckZulip, nil)
	}

	// Write ahead: no record, no change. The record is what an admin and
	// the job work from.
	next := ch.clone()
	if !s.moved(next.start(s.opts.Now())) {
		res.Failure = newFailure(CodeInternal, nil)
		return
	}
	var agreed *agreedMove
	var err error
	if ch.State == StateNew && next.ZulipUserID != 0 {
		var m agreedMove
		m, err = s.saveAndAgreeAhead(ctx, &next) // put back if not saved
		agreed = &m
	} else {
		err = s.saveAhead(ctx, &next)
	}
	if err != nil {
		if ch.State == StateNew {
			s.refuse(res, StepCheckZulip, newFailure(CodeInternal, err))
			return
		}
		// Another writer has the record: leave it to them.
		s.opts.Logger.Error("account sync: could not save the change record; leaving the change", "change_id", ch.ID, "error", err.Error())
		res.Failure = newFailure(CodeInternal, err)
		res.recorded = true
		return
	}
	*ch = next
	if agreed != nil {
		res.agreedAhead = agreed.noteIn(ch)
	} else {
		res.agreedAhead = s.agreeAhead(ch) // before Mattermost changes: never taken for a change made elsewhere (no-op without Zulip)
	}

	if f := s.applyMattermost(ch); f != nil {
		res.Failure = f
		return
	}
	lim.countChange(s)
	switch {
	case ch.State == StatePendingVerification:
	case !s.opts.SyncZulip:
		s.moved(ch.succeed(s.opts.Now(), "", StatusDisabled))
	default:
		s.syncZulip(ctx, res, target)
	}
}

// stop ends a change that changed nothing: a new one is refused (and not
// stored), one waiting in the background fails for good.
func (s *Service) stop(res *Result, step string, f *Failure) {
	if res.Change.State == StateNew {
		s.refuse(res, step, f)
		return
	}
	res.Failure = f
	s.moved(res.Change.fail(s.opts.Now(), step, f))
}

// wait keeps a change Zulip could not take for now, nothing changed, for
// the job to try again; at its give-up time it fails instead. A new change
// is saved here, so that the user is never told it was saved when it was
// not.
func (s *Service) wait(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	res.Failure = f
	if s.timeUp(ch) {
		s.moved(ch.fail(s.opts.Now(), StepCheckZulip, f))
		return
	}
	if ch.State != StateNew {
		s.moved(ch.waitForZulip(s.opts.Now(), StepCheckZulip, f, s.retryTimes(ch, f)))
		return
	}
	next := ch.clone()
	if !s.moved(next.waitForZulip(s.opts.Now(), StepCheckZulip, f, s.retryTimes(&next, f))) {
		s.refuse(res, StepCheckZulip, f)
		return
	}
	if err := s.saveAhead(ctx, &next); err != nil {
		// Not saved: tell the user to try again, as before.
		s.opts.Logger.Error("account sync: could not save a change for later", "change_id", ch.ID, "error", err.Error())
		s.refuse(res, StepCheckZulip, f)
		return
	}
	*ch = next
	s.logChange(res)
	res.recorded = true
}

// lockUser takes the user's lock: CodeBusy when another change, link or
// job run holds it. The returned unlock is never nil.
func (s *Service) lockUser(ctx context.Context, userID string) (func(), *Failure) {
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

// pendingLock is the user's lock, asked for ahead (a user's own change,
// side by side with the gates: one round trip less) or when taken.
type pendingLock struct {
	s      *Service
	userID string
	answer chan lockAnswer // nil: not asked for ahead
	taken  bool            // the answer went to take
}

type lockAnswer struct {
	unlock func()
	f      *Failure
}

// lockAhead asks for the user's lock at once for a user's own change. An
// admin's change for someone takes it only once the admin is checked, so
// that nobody else can hold a user's lock, even for a moment.
func (s *Service) lockAhead(ctx context.Context, req Request) *pendingLock {
	p := &pendingLock{s: s, userID: req.UserID}
	if req.onBehalf() {
		return p
	}
	p.answer = make(chan lockAnswer, 1)
	go func() {
		var a lockAnswer
		defer func() { p.answer <- a }()
		defer recovered(func(err error) { a = lockAnswer{f: newFailure(CodeInternal, err)} })
		a.unlock, a.f = s.lockUser(ctx, req.UserID)
	}()
	return p
}

// take returns the lock: the answer to the early ask, or the lock taken
// now.
func (p *pendingLock) take(ctx context.Context) (func(), *Failure) {
	if p.answer == nil {
		return p.s.lockUser(ctx, p.userID)
	}
	p.taken = true
	a := <-p.answer
	return a.unlock, a.f
}

// release lets go of a lock asked for ahead and never taken, once it is
// answered: the change was refused by its gates, or a gate panicked.
func (p *pendingLock) release() {
	if p.answer == nil || p.taken {
		return
	}
	if a := <-p.answer; a.unlock != nil {
		a.unlock()
	}
}

// checkOpenChange refuses a new change while another one of the user's is
// open.
func (s *Service) checkOpenChange(userID string, res *Result) *Failure {
	open, ok, err := s.opts.Recorder.LatestChange(userID)
	return openChangeFrom(open, ok, err, res)
}

// openChangeFrom is checkOpenChange on the user's latest change as read.
func openChangeFrom(open Change, ok bool, err error, res *Result) *Failure {
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
