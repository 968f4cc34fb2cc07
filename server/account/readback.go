package account

import (
	"context"
	"errors"
	"strings"
)

// This file is how the job ends a change whose Zulip outcome was not known
// (its answer was lost): Zulip is read back first, and a change is never
// rolled back, or called "Zulip was not changed", on a guess.

// rollBackUnlessZulipTookIt puts Mattermost back for f, unless Zulip may
// have taken the change (an earlier answer was lost): then Zulip is read
// first, and a change Zulip took, or whose outcome cannot be seen, is for
// an admin.
func (s *Service) rollBackUnlessZulipTookIt(ctx context.Context, res *Result, f *Failure) bool {
	ch := &res.Change
	if ch.Zulip == StatusUnknown {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			return s.end(res, ch.needAttention(s.opts.Now(), StepSyncZulip, f, attention{}), f)
		case err != nil:
			return s.retryOrAttention(res, zulipFailure(err, CodeZulipRejected))
		case has:
			return s.end(res, ch.needAttention(s.opts.Now(), StepSyncZulip, f, attention{zulip: StatusChanged}), f)
		}
		ch.Zulip = StatusUntouched
	}
	return s.rollBackFor(ctx, res, f)
}

// changedMeanwhile ends a change whose Mattermost email was changed by
// other means while it was open. When an earlier answer of Zulip's was
// lost, Zulip is read first: if it took the new address, the systems now
// differ and an admin must look; it is never called "nothing changed".
func (s *Service) changedMeanwhile(ctx context.Context, res *Result, now string, step string) bool {
	ch := &res.Change
	f := newFailure(CodeChangedMeanwhile, nil)
	f.Detail = now
	if ch.Zulip == StatusUnknown || (ch.State == StateStarted && ch.ZulipUserID != 0) {
		has, err := s.zulipHasNew(ctx, ch)
		switch {
		case errors.Is(err, errAddressHidden):
			return s.end(res, ch.needAttention(s.opts.Now(), step, f, attention{zulip: StatusUnknown}), f)
		case err != nil:
			f.Err = err // why Zulip could not be read, for the log
			if ch.State == StateStarted {
				ch.Zulip = StatusUnknown
			}
			return s.retryOrAttention(res, f)
		case has:
			return s.end(res, ch.needAttention(s.opts.Now(), step, f, attention{zulip: StatusChanged}), f)
		}
		ch.Zulip = StatusUntouched
	}
	return s.end(res, ch.fail(s.opts.Now(), step, f), f)
}

// errAddressHidden: Zulip hides the account's address from the bot, so
// whether it has the new one cannot be seen.
var errAddressHidden = errors.New("account: Zulip hides the account's address from the sync bot")

// zulipHasNew reads the change's Zulip account: does it have the new
// address? errAddressHidden when the bot cannot see its address.
func (s *Service) zulipHasNew(ctx context.Context, ch *Change) (bool, error) {
	if s.zc == nil || ch.ZulipUserID == 0 {
		return false, errors.New("account: Zulip is not configured")
	}
	zu, err := s.zc.GetUserByID(ctx, ch.ZulipUserID)
	switch {
	case err != nil:
		return false, err
	case zu.RealAddress() == "":
		return false, errAddressHidden
	}
	return strings.EqualFold(zu.RealAddress(), ch.NewEmail), nil
}

// retryOrAttention tries a change again later when what decides its end
// could not be read, and hands it to an admin at its give-up time.
func (s *Service) retryOrAttention(res *Result, f *Failure) bool {
	ch := &res.Change
	t := s.retryTimes(ch, f)
	if ch.GiveUpAt != nil {
		t.giveUp = *ch.GiveUpAt
	}
	if s.opts.Now().Before(t.giveUp) {
		ch.retryLater(s.opts.Now(), f, t)
		return true
	}
	if ch.GiveUpAt == nil {
		ch.GiveUpAt = &t.giveUp
	}
	return s.end(res, ch.needAttention(s.opts.Now(), "", f, attention{}), f)
}
