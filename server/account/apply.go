package account

import "context"

// OriginZulipElsewhere is a change made in Zulip by other means (Zulip's
// settings, a Zulip administrator, SCIM) that Account Sync applied to the
// linked Mattermost account without asking, because the administrator
// chose so (ApplyZulipChanges).
const OriginZulipElsewhere = "zulip_elsewhere"

// ApplyZulipChange brings the user's Mattermost email to the address their
// linked Zulip account was changed to by other means, when the
// administrator chose to apply such changes rather than offer them (for
// organisations whose Zulip is fed by their directory). It is the normal
// flow without a session: the same checks of both systems, the record and
// audit (origin zulip_elsewhere), Mattermost's confirmation link when the
// server requires one, the user's limits; Zulip has the address already
// and is not changed again. The user is told in a direct message. ok is
// false when nothing was tried (see zulipChangeSeen; over the user's
// limits, the next scan looks again). A refusal is told once: the same
// address is not applied again.
func (s *Service) ApplyZulipChange(ctx context.Context, userID string) (Result, bool) {
	if !s.syncing() || s.opts.ReportZulipChanges || !s.opts.ApplyZulipChanges {
		return Result{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	unlock, f := s.lockUser(ctx, userID)
	if f != nil {
		return Result{}, false // busy: the next scan looks again
	}
	defer unlock()
	seen, ok := s.zulipChangeSeen(ctx, userID)
	if !ok || !s.appliesTo(seen) {
		return Result{}, false
	}
	lim, f := s.checkLimits(userID)
	if f != nil {
		s.opts.Logger.Info("account sync: a change made in Zulip elsewhere waits for the user's limits", "user_id", userID, "code", string(f.Code))
		return Result{}, false
	}
	lim.noAttempts = true // the user did not ask: the scan's tries are not theirs
	now := s.opts.Now()
	res := Result{Input: seen.addr, Change: Change{ID: newChangeID(), UserID: userID, Origin: OriginZulipElsewhere, OldEmail: seen.user.Email,
		NewEmail: seen.addr, ZulipUserID: seen.link.ZulipUserID, Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now}}
	res.Change.record(now, StepFoundElsewhere, nil)
	if f := s.validateUser(seen.user, seen.addr); f != nil {
		s.refuse(&res, StepValidate, f)
	} else {
		s.attempt(ctx, &res, seen.user, lim)
	}
	out := s.finish(ctx, &res)
	if f := out.Failure; f != nil && (out.Change.State == StateRefused || out.Change.State == StateFailed) && out.Change.Mattermost == StatusUntouched &&
		(retryable(f) || f.Code.ForAdmin() || f.Code == CodeZulipMovedOn) {
		// Zulip unreachable, something only an admin can fix, or Zulip
		// moved on again: nothing was changed nor kept, the log says why,
		// the next scan looks again; the user is not told of it each time.
		return out, true
	}
	s.markApplied(seen)
	if err := s.opts.Notifier.Notify(userID, Notice{Kind: NoticeApplied, Result: out}); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the user about a change made in Zulip elsewhere", "change_id", out.Change.ID, "user_id", userID, "error", err.Error())
	}
	return out, true
}

// markApplied keeps the applied address, so that the scan and Zulip's
// events do not apply (nor tell) it again.
func (s *Service) markApplied(seen zulipSeen) {
	if err := s.opts.Offers.SaveOffer(seen.offer(newChangeID(), OfferApplied, s.opts.Now())); err != nil {
		s.opts.Logger.Error("account sync: could not keep an applied Zulip address", "user_id", seen.user.ID, "error", err.Error())
	}
}

// appliesTo tells whether apply mode may move this user's Mattermost email
// without asking: not a system admin (whose account is the server's), and
// a link the user or an admin made, not one the scan made (see
// LinkScanMethod). Everyone else is offered the change.
func (s *Service) appliesTo(seen zulipSeen) bool {
	return s.opts.ApplyZulipChanges && seen.link.Method != LinkScanMethod && !s.mm.IsSystemAdmin(seen.user.ID)
}

// followZulipChange follows a change made in Zulip elsewhere as the
// administrator chose: applied to Mattermost, or offered to the user (in
// apply mode too, for those it does not apply to).
func (s *Service) followZulipChange(ctx context.Context, userID string) (applied, offered bool) {
	if s.opts.ApplyZulipChanges {
		if _, applied = s.ApplyZulipChange(ctx, userID); applied {
			return true, false
		}
	}
	_, offered = s.OfferZulipChange(ctx, userID)
	return false, offered
}
