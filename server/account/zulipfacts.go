package account

import (
	"context"
	"sync"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// ZulipFactsTTL is how long what Zulip said about itself and the bot is
// trusted without asking again.
const ZulipFactsTTL = 5 * time.Minute

// ZulipFacts remembers, for a short time, what is the same for every user:
// the Zulip server is new enough, and the bot may change emails. A change
// then needs only its own two requests (is the new address free, make the
// change). The plugin keeps one per Zulip connection and builds a new one
// whenever the connection's settings change; a refusal that may mean the facts changed
// makes it forget them.
type ZulipFacts struct {
	ttl time.Duration

	// checking lets one change at a time ask Zulip; the others wait for
	// its answer instead of asking too.
	checking sync.Mutex

	mu        sync.Mutex
	checkedAt time.Time // when both facts were last confirmed; zero: never

	// lists is the Zulip users list of the migration under way, kept for
	// its next batches.
	lists migrationLists
}

// NewZulipFacts returns facts trusted for ttl (0: never trusted, every
// change asks again).
func NewZulipFacts(ttl time.Duration) *ZulipFacts { return &ZulipFacts{ttl: ttl} }

func (f *ZulipFacts) fresh(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ttl > 0 && !f.checkedAt.IsZero() && now.Sub(f.checkedAt) < f.ttl
}

func (f *ZulipFacts) confirm(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkedAt = now
}

// Forget makes the next change ask Zulip again.
func (f *ZulipFacts) Forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkedAt = time.Time{}
}

// zulipReady makes sure, or remembers, that Zulip is new enough and the bot
// may change emails. The permission is checked with a change of the bot's
// own address to itself, which Zulip checks and then leaves alone; the
// permission is the bot's, the same for every account it may administer.
func (s *Service) zulipReady(ctx context.Context) *Failure {
	if s.opts.Facts.fresh(s.opts.Now()) {
		return nil
	}
	s.opts.Facts.checking.Lock()
	defer s.opts.Facts.checking.Unlock()
	if s.opts.Facts.fresh(s.opts.Now()) {
		return nil // another change just checked
	}
	settings, err := s.zc.ServerSettings(ctx)
	if err != nil {
		return zulipFailure(err, CodeZulipRejected)
	}
	if settings.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
		f := newFailure(CodeZulipTooOld, nil)
		f.Detail = settings.Version
		return f
	}
	me, err := s.zc.Me(ctx)
	if err != nil {
		return zulipFailure(err, CodeZulipRejected)
	}
	if me.RealAddress() == "" {
		// The bot's own address is hidden from it: nothing safe to probe
		// with. The change itself tells.
		s.opts.Logger.Warn("account sync: Zulip does not show the bot its own address; skipping the permission check", "zulip_user_id", me.ID)
		return nil
	}
	if err := s.zc.ChangeEmailByID(ctx, me.ID, me.RealAddress()); err != nil {
		return zulipFailure(err, CodeZulipNoPermission)
	}
	s.opts.Facts.confirm(s.opts.Now())
	return nil
}

// forgetFactsOn makes the next change check Zulip again when f may mean
// that what was remembered no longer holds.
func (s *Service) forgetFactsOn(f *Failure) {
	if f == nil {
		return
	}
	if codeTable[f.Code].forgetsFacts {
		s.opts.Facts.Forget()
	}
}
