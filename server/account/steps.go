package account

import (
	"context"
	"errors"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// checkMattermost makes sure no other Mattermost account uses addr.
func (s *Service) checkMattermost(addr, userID string) *Failure {
	other, err := s.mm.FindUserByEmail(addr)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil
	case err != nil:
		return newFailure(CodeMattermostFailed, err)
	case other.ID != userID:
		return newFailure(CodeTakenInMattermost, nil)
	default:
		return nil
	}
}

// checkZulip makes sure Zulip can take the change before Mattermost is
// touched: the caller's own Zulip account is known (linked, or proven now),
// the server is new enough and the bot may change emails (both remembered
// for a while, see ZulipFacts), and the new address is free. For a linked
// user whose Zulip address is their Mattermost email, that is two requests,
// made side by side: one round trip, not two. A user without a link is
// proven first, and the new address looked up only then.
func (s *Service) checkZulip(ctx context.Context, user User, ch *Change, read *linkAnswer) (zulipTarget, *Failure) {
	if read == nil {
		read = &linkAnswer{}
		read.link, read.linked, read.err = s.opts.Links.Link(user.ID)
	}
	link, linked, err := read.link, read.linked, read.err
	if err != nil {
		return zulipTarget{}, newFailure(CodeInternal, err)
	}
	lookup, started := s.lookupLater(ctx, ch.NewEmail), false
	if linked {
		lookup, started = s.lookupNow(ctx, ch.NewEmail), true
	}
	target, f := s.zulipAccount(ctx, user, ch.ID, link, linked)
	if f == nil {
		f = s.zulipReady(ctx)
	}
	if f != nil {
		if started {
			_, _ = lookup() // waited for: nothing outlives the check
		}
		return zulipTarget{}, f
	}
	taken, err := lookup()
	switch {
	case err == nil && !strings.EqualFold(taken.RealAddress(), ch.NewEmail) && isIDAddress(ch.NewEmail):
		// Found by Zulip's id-based address, not by its own: an address
		// Zulip keeps for an account's id, never a real one.
		return zulipTarget{}, newFailure(CodeZulipDummyAddress, nil)
	case err == nil && taken.ID == target.userID && strings.EqualFold(taken.RealAddress(), ch.NewEmail):
		target.alreadyChanged = true
	case err == nil:
		return zulipTarget{}, newFailure(CodeTakenInZulip, nil)
	case isNoSuchUser(err):
		// Free, as far as the bot can see.
	default:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}
	return target, nil
}

// lookupNow starts looking up addr in Zulip at once; the returned func
// waits for the answer.
func (s *Service) lookupNow(ctx context.Context, addr string) func() (zulip.User, error) {
	type answer struct {
		u   zulip.User
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		defer recovered(func(err error) { ch <- answer{err: err} })
		u, err := s.zc.GetUser(ctx, addr)
		ch <- answer{u, err}
	}()
	return func() (zulip.User, error) {
		a := <-ch
		return a.u, a.err
	}
}

// lookupLater looks addr up only when asked.
func (s *Service) lookupLater(ctx context.Context, addr string) func() (zulip.User, error) {
	return func() (zulip.User, error) { return s.zc.GetUser(ctx, addr) }
}

// zulipFailure maps a Zulip error to a code. badRequest is the code for a
// BAD_REQUEST whose text is not one the client knows (the caller knows which
// check the request could fail).
func zulipFailure(err error, badRequest Code) *Failure {
	var rl *zulip.RateLimitError
	if errors.As(err, &rl) {
		f := newFailure(CodeZulipRateLimited, err)
		f.RetryAfter = rl.RetryAfter
		return f
	}
	if errors.Is(err, zulip.ErrEmailIgnored) {
		return newFailure(CodeZulipTooOld, err)
	}
	if zulip.IsRedirect(err) {
		return newFailure(CodeZulipRedirect, err)
	}
	if zulip.IsTransient(err) {
		return newFailure(CodeZulipUnavailable, err)
	}
	switch zulip.ReasonOf(err) {
	case zulip.ReasonUnauthorized:
		return newFailure(CodeZulipUnauthorized, err)
	case zulip.ReasonMethodNotAllowed:
		return newFailure(CodeZulipTooOld, err)
	case zulip.ReasonNoSuchUser:
		return newFailure(CodeZulipUserNotFound, err)
	case zulip.ReasonInsufficientPermission:
		return newFailure(CodeZulipBotNotAdmin, err)
	case zulip.ReasonCannotChangeEmails:
		return newFailure(CodeZulipNoPermission, err)
	case zulip.ReasonInvalidEmail:
		return newFailure(CodeZulipRefusedAddress, err)
	case zulip.ReasonEmailInUse:
		return newFailure(CodeTakenInZulip, err)
	case zulip.ReasonBadRequest:
		return newFailure(badRequest, err)
	default:
		return newFailure(CodeZulipRejected, err)
	}
}

// applyMattermost changes the email in Mattermost and tells, from the
// server's answer, a change from a change held for verification from no
// change at all.
func (s *Service) applyMattermost(ch *Change) *Failure {
	now := s.opts.Now()
	after, err := s.mm.UpdateEmail(ch.UserID, ch.NewEmail)
	if err != nil {
		f := mattermostFailure(err)
		s.moved(ch.fail(now, StepApplyMattermost, f))
		return f
	}
	switch {
	case strings.EqualFold(after, ch.NewEmail):
		ch.Mattermost = StatusChanged
		ch.record(now, StepApplyMattermost, nil)
		return nil
	case strings.EqualFold(after, ch.OldEmail) && s.mm.RequiresEmailVerification():
		s.moved(ch.waitForLink(now, StepApplyMattermost))
		return nil
	default:
		f := newFailure(CodeMattermostUnchanged, nil)
		s.moved(ch.fail(now, StepApplyMattermost, f))
		return f
	}
}

func mattermostFailure(err error) *Failure {
	switch {
	case errors.Is(err, ErrEmailTaken):
		return newFailure(CodeTakenInMattermost, err)
	case errors.Is(err, ErrDomainNotAllowed):
		return newFailure(CodeDomainNotAllowed, err)
	default:
		return newFailure(CodeMattermostFailed, err)
	}
}

// syncZulip forwards the change to Zulip by the linked account's id, and
// puts Mattermost back when Zulip clearly did not take it. When Zulip's
// answer is lost, nobody waits for it: the change is saved for the job,
// which reads Zulip back at once and tells the user how it ended. While
// Zulip asks to wait, Mattermost keeps the new address and the job tries
// Zulip again later.
func (s *Service) syncZulip(ctx context.Context, res *Result, target zulipTarget) {
	ch := &res.Change
	var err error
	if !target.alreadyChanged {
		err = s.zc.ChangeEmailByID(ctx, target.userID, ch.NewEmail)
	}
	if answerLost(err) && !s.timeUp(ch) {
		s.opts.Logger.Warn("account sync: Zulip's answer to the change was lost; the job reads Zulip back to settle it", "change_id", ch.ID, "error", err.Error())
		res.Failure = zulipFailure(err, CodeZulipRefusedAddress)
		s.moved(ch.followLater(s.opts.Now(), StepSyncZulip, res.Failure, StatusUnknown, s.retryNow(ch)))
		return
	}
	s.afterZulip(ctx, res, err)
}

// afterZulip moves the change on from Zulip's answer to the change.
func (s *Service) afterZulip(ctx context.Context, res *Result, err error) {
	ch := &res.Change
	now := s.opts.Now()
	var rl *zulip.RateLimitError
	switch {
	case err == nil:
		res.Failure = nil
		s.moved(ch.succeed(now, StepSyncZulip, StatusChanged))
	case answerLost(err) || errors.As(err, &rl):
		f := zulipFailure(err, CodeZulipRefusedAddress)
		res.Failure = f
		zulipNow := ch.Zulip
		if answerLost(err) {
			zulipNow = StatusUnknown
		}
		switch {
		case s.timeUp(ch):
			ch.record(now, StepSyncZulip, f)
			ch.Zulip = zulipNow
			s.giveUpOnZulip(ctx, res, f)
		default:
			s.moved(ch.followLater(now, StepSyncZulip, f, zulipNow, s.retryTimes(ch, f)))
		}
	default:
		var f *Failure
		if !errors.As(err, &f) { // the job's own findings come as a *Failure
			f = zulipFailure(err, CodeZulipRefusedAddress)
		}
		res.Failure = f
		s.forgetFactsOn(f)
		ch.record(now, StepSyncZulip, f)
		s.rollbackAhead(ctx, res, f)
	}
}

// rollbackAhead notes why Mattermost goes back, saves that ahead of the
// rollback, and puts Mattermost back.
func (s *Service) rollbackAhead(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	res.Failure = f
	if ch.Origin == OriginMattermostElsewhere {
		// Mattermost was changed elsewhere, by someone entitled to: it is
		// never put back. The user is told what differs.
		s.moved(ch.fail(s.opts.Now(), "", f))
		return
	}
	ch.NextAttemptAt = nil
	ch.noteError(s.opts.Now(), f)
	s.save(ctx, ch)
	s.rollbackMattermost(res)
}

// giveUpOnZulip ends a change whose Zulip side ran out of time after
// Mattermost changed: Mattermost is put back. When an earlier answer was
// lost, Zulip is read first, as it may have taken the change after all; if
// it cannot be read, the change is left for an admin, never called undone.
func (s *Service) giveUpOnZulip(ctx context.Context, res *Result, f *Failure) {
	ch := &res.Change
	res.Failure = f
	if ch.Zulip == StatusUnknown {
		var zu zulip.User
		err := errors.New("account: Zulip is not configured")
		if s.zc != nil {
			zu, err = s.zc.GetUserByID(ctx, ch.ZulipUserID)
		}
		switch {
		case err == nil && strings.EqualFold(zu.RealAddress(), ch.NewEmail):
			ch.noteError(s.opts.Now(), f)
			s.afterZulip(ctx, res, nil)
			return
		case err == nil && zu.RealAddress() != "":
			ch.Zulip = StatusUntouched // Zulip clearly kept another address
		default:
			s.moved(ch.needAttention(s.opts.Now(), "", f, attention{}))
			return
		}
	}
	s.rollbackAhead(ctx, res, f)
}

// answerLost tells an error after which Zulip may or may not have made the
// change: no answer, a timeout, a 5xx. Refusals, rate limits (checked
// before anything changes) and redirects are clear answers.
func answerLost(err error) bool {
	var ue *zulip.UnavailableError
	return errors.As(err, &ue)
}

// rollbackMattermost puts the old email back after Zulip failed for
// res.Failure.
func (s *Service) rollbackMattermost(res *Result) {
	ch := &res.Change
	var why Code
	if res.Failure != nil {
		why = res.Failure.Code
	}
	after, err := s.mm.UpdateEmail(ch.UserID, ch.OldEmail)
	held := false // Mattermost accepted, and still shows the new address
	if err == nil && !strings.EqualFold(after, ch.OldEmail) {
		held = strings.EqualFold(after, ch.NewEmail)
		err = errors.New("account: the old email did not come back")
	}
	now := s.opts.Now()
	switch {
	case err != nil && held && s.mm.RequiresEmailVerification():
		// Mattermost holds the way back too, for a link mailed to the old
		// address: wait for it, as long as such a link lives.
		s.moved(ch.waitForRollbackLink(now, now.Add(VerificationLinkValidity+verificationMargin)))
	case err != nil:
		res.RollbackFailure = mattermostFailure(err)
		ch.record(now, StepRollbackMattermost, res.RollbackFailure)
		s.moved(ch.needAttention(now, "", res.Failure, attention{mattermost: StatusRollbackFailed}))
	default:
		s.moved(ch.rollBack(now, StepRollbackMattermost, why))
	}
}
