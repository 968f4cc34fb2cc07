package account

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// patchMeeting holds the Zulip PATCH until the usage's write has started
// (and the other way round): done one after the other, they never meet and
// the PATCH fails as lost. The facts' probe of the bot's own account goes
// through.
type patchMeeting struct {
	*fakeZulip
	*meeting
}

func (m *patchMeeting) ChangeEmailByID(ctx context.Context, id int, email string) error {
	if id != 1 && !m.meet() { // not the facts' probe (the bot's own account)
		return errDown
	}
	return m.fakeZulip.ChangeEmailByID(ctx, id, email)
}

// slowUsage meets the PATCH, then takes a while, and notes each write's
// end.
type slowUsage struct {
	*memUsage
	*meeting
	mu    sync.Mutex
	ended bool
	fail  error
}

func (u *slowUsage) SaveUsage(userID string, us UserUsage) error {
	if len(us.Changes) > 0 && !u.meet() {
		return errors.New("not side by side")
	}
	time.Sleep(20 * time.Millisecond)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ended = true
	if u.fail != nil {
		return u.fail
	}
	return u.memUsage.SaveUsage(userID, us)
}

func (u *slowUsage) done() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ended
}

// usageStore is the harness's store with another Usage.
type usageStore struct {
	memStore
	u *slowUsage
}

func (s usageStore) Usage(userID string) (UserUsage, error)     { return s.u.Usage(userID) }
func (s usageStore) SaveUsage(userID string, u UserUsage) error { return s.u.SaveUsage(userID, u) }

// Issue 17: the change's count is written side by side with the Zulip
// PATCH (one round trip less), once, with the attempt, and is done before
// the user's lock is let go.
func TestUsageWrittenBesideThePatch(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	mt := newMeeting()
	usage := &slowUsage{memUsage: h.usage, meeting: mt}
	d := h.deps(&patchMeeting{fakeZulip: h.z, meeting: mt})
	st := d.Store.(memStore)
	d.Store = usageStore{st, usage}
	writtenAtUnlock := false
	lockedService := newTestService(d, withNow(h))
	res := withUnlockCheck(h, func() { writtenAtUnlock = usage.done() }, func() Result {
		return lockedService.ChangeEmail(context.Background(), req(annNew))
	})
	if res.Change.State != StateDone || res.Failure != nil || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	u := h.usage.usage["u1"]
	if h.usage.saves != 1 || len(u.Attempts) != 1 || len(u.Changes) != 1 {
		t.Errorf("%d writes, usage %+v: want one write with the attempt and the change", h.usage.saves, u)
	}
	if !writtenAtUnlock {
		t.Error("the lock was let go before the usage was written")
	}
}

// withUnlockCheck runs fn with the harness's lock calling atUnlock as it
// is let go.
func withUnlockCheck(h *harness, atUnlock func(), fn func() Result) Result {
	h.locker.wrap = func(unlock func()) func() {
		return func() {
			atUnlock()
			unlock()
		}
	}
	defer func() { h.locker.wrap = nil }()
	return fn()
}

// A usage write that fails beside the PATCH is logged; the change is made
// as before, and the lock let go.
func TestUsageWriteBesideThePatchFails(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	mt := newMeeting()
	usage := &slowUsage{memUsage: h.usage, meeting: mt, fail: errors.New("kv down")}
	d := h.deps(&patchMeeting{fakeZulip: h.z, meeting: mt})
	st := d.Store.(memStore)
	d.Store = usageStore{st, usage}
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew || h.locker.held["u1"] {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if !strings.Contains(h.log.String(), "could not save the user's usage") || !strings.Contains(h.log.String(), "kv down") {
		t.Errorf("log:\n%s", h.log)
	}
}
