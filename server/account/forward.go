package account

import (
	"context"
	"errors"
	"strings"
)

// OriginMattermostElsewhere is a change made in Mattermost by other means
// (the profile page, the System Console, mmctl, an SSO or LDAP sign-in)
// that Account Sync forwards to the linked Zulip account.
const OriginMattermostElsewhere = "mattermost_elsewhere"

// StepFoundElsewhere: a change made in Mattermost by other means was found.
const StepFoundElsewhere = "found_elsewhere"

// errNotForwardable: the pair is not a change made in Mattermost elsewhere
// as far as Zulip shows (Zulip's address moved too, or is hidden): the
// drift report lists it; nothing is forwarded.
var errNotForwardable = errors.New("account: not a change made in Mattermost elsewhere")

// Forward brings the user's linked Zulip account to the address their
// Mattermost email was changed to by other means. It is a change like any
// other (a record, the audit, the job, a direct message to the user),
// except that Mattermost is never touched, nor put back: if Zulip cannot
// take the address, the change fails and the user is told what differs.
// ok is false when there is nothing to forward: no link or no agreed
// address, the same address, an open change, a forward of this address
// that already ended, a deactivated user, Zulip unreachable (the next scan
// tries again), sync off, or such changes only reported.
func (s *Service) Forward(ctx context.Context, userID string) (res Result, ok bool) {
	if !s.syncing() || s.opts.ReportMattermostChanges {
		return Result{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	unlock, f := s.lockUser(ctx, userID)
	if f != nil {
		return Result{}, false // busy: the next scan looks again
	}
	defer unlock()

	ch, found := s.foundElsewhere(userID)
	if !found {
		return Result{}, false
	}
	// The user's limits hold for forwards too: over them, the next scan
	// looks again (the drift report shows the pair meanwhile).
	lim, f := s.checkLimits(userID)
	if f != nil {
		s.opts.Logger.Info("account sync: a change made in Mattermost elsewhere waits for the user's limits", "user_id", userID, "code", string(f.Code))
		return Result{}, false
	}
	lim.countAttempt(s)
	res = Result{Change: ch}
	target, f := s.checkForward(ctx, &res.Change)
	switch {
	case f != nil && errors.Is(f, errNotForwardable):
		return Result{}, false
	case f != nil && (retryable(f) || f.Code.ForAdmin()):
		// Zulip unreachable, or something only an admin can fix (the
		// bot's key, its role, a setting): not recorded, the next scan
		// tries again, and the admin finds it in the log.
		s.logFailure("account sync: a change made in Mattermost elsewhere cannot be forwarded for now; the next scan tries again", res.Change, f)
		return Result{}, false
	case f != nil:
		// Recorded, so that the user is told once and the next scans leave
		// the pair to the drift report.
		res.Failure = f
		s.moved(res.Change.fail(s.opts.Now(), StepCheckZulip, f))
	case target.alreadyChanged:
		// Zulip has it too: only the agreed address moves.
		s.agree(&res.Change, res.Change.NewEmail)
		return Result{}, false
	default:
		s.forwardAhead(ctx, &res, target)
		if res.Change.State == StateDone || res.Change.State.Open() {
			lim.countChange(s)
		}
	}
	out := s.finish(ctx, &res)
	s.notify(out)
	return out, true
}

// foundElsewhere is the change to forward for userID, if their Mattermost
// email moved away from the agreed address by other means.
func (s *Service) foundElsewhere(userID string) (Change, bool) {
	user, err := s.mm.GetUser(userID)
	if err != nil || user.IsBot || user.Deactivated {
		return Change{}, false
	}
	l, linked, err := s.opts.Links.Link(userID)
	if err != nil || !linked || l.AgreedEmail == "" || strings.EqualFold(user.Email, l.AgreedEmail) {
		return Change{}, false
	}
	latest, ok, err := s.opts.Recorder.LatestChange(userID)
	switch {
	case err != nil:
		return Change{}, false
	case ok && latest.State.Open():
		return Change{}, false // its own end moves the agreed address
	case ok && latest.Origin == OriginMattermostElsewhere && strings.EqualFold(latest.NewEmail, user.Email) &&
		latest.Code != CodeGaveUp && !latest.Code.ForAdmin():
		return Change{}, false // this very forward ended already: the drift report shows the pair
	case ok && latest.Origin == "" && latest.Zulip == StatusDisabled && strings.EqualFold(latest.NewEmail, user.Email):
		return Change{}, false // Account Sync's own Mattermost-only change (sync was off): not made elsewhere
	}
	now := s.opts.Now()
	ch := Change{ID: newChangeID(), UserID: userID, Origin: OriginMattermostElsewhere, OldEmail: l.AgreedEmail, NewEmail: user.Email,
		ZulipUserID: l.ZulipUserID, Mattermost: StatusChanged, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now}
	ch.record(now, StepFoundElsewhere, nil)
	return ch, true
}

// checkForward makes sure Zulip can take the forwarded address: Zulip's
// own rules, the linked account still active, human and at the agreed
// address, the server and the bot able, and the address free.
func (s *Service) checkForward(ctx context.Context, ch *Change) (zulipTarget, *Failure) {
	addr, err := NormalizeAddress(ch.NewEmail, nil)
	if err != nil {
		return zulipTarget{}, asFailure(err, CodeZulipRefusedAddress)
	}
	ch.NewEmail = addr
	if isZulipDummyAddress(addr, s.opts.ZulipHost) {
		return zulipTarget{}, newFailure(CodeZulipDummyAddress, nil)
	}
	if f := s.domainAllowed(addr); f != nil {
		return zulipTarget{}, f
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	switch {
	case isNoSuchUser(err):
		return zulipTarget{}, newFailure(CodeZulipAccountInactive, err)
	case err != nil:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	case !zu.IsActive || zu.IsBot:
		return zulipTarget{}, newFailure(CodeZulipAccountInactive, nil)
	case strings.EqualFold(zu.RealAddress(), addr):
		return zulipTarget{userID: zu.ID, alreadyChanged: true}, nil
	case !strings.EqualFold(zu.RealAddress(), ch.OldEmail):
		return zulipTarget{}, &Failure{Code: CodeZulipRejected, Err: errNotForwardable}
	}
	if f := s.zulipReady(ctx); f != nil {
		return zulipTarget{}, f
	}
	taken, err := s.zc.GetUser(ctx, addr)
	switch {
	case err == nil && taken.ID != zu.ID:
		return zulipTarget{}, newFailure(CodeTakenInZulip, nil)
	case err == nil:
		return zulipTarget{}, newFailure(CodeZulipDummyAddress, nil) // its own account, found by its id-based address
	case isNoSuchUser(err):
		return zulipTarget{userID: zu.ID}, nil
	default:
		return zulipTarget{}, zulipFailure(err, CodeZulipRejected)
	}
}

// forwardAhead writes the forward ahead of Zulip, moves the agreed address
// and changes Zulip.
func (s *Service) forwardAhead(ctx context.Context, res *Result, target zulipTarget) {
	ch := &res.Change
	next := ch.clone()
	if !s.moved(next.followLater(s.opts.Now(), StepCheckZulip, nil, StatusUntouched, s.retryNow(&next))) {
		return
	}
	if err := s.saveAhead(ctx, &next); err != nil {
		s.opts.Logger.Error("account sync: could not save a change made in Mattermost elsewhere; the next scan tries again", "user_id", ch.UserID, "error", err.Error())
		res.recorded = true
		return
	}
	*ch = next
	s.agreeAhead(ch)
	s.syncZulip(ctx, res, target)
}
