package account

import (
	"context"
	"sync/atomic"
	"testing"
)

// meetingMattermost holds the user's read until the new address's lookup
// has started (and the other way round): done one after the other, they
// never meet and the read fails. It counts the lookups.
type meetingMattermost struct {
	Mattermost
	*meeting
	finds atomic.Int32
}

func (m *meetingMattermost) GetUser(id string) (User, error) {
	if !m.meet() {
		return User{}, errDown
	}
	return m.Mattermost.GetUser(id)
}

func (m *meetingMattermost) FindUserByEmail(email string) (User, error) {
	m.finds.Add(1)
	if !m.meet() {
		return User{}, errDown
	}
	return m.Mattermost.FindUserByEmail(email)
}

// Issue 17: once the user's lock is held, the user's read and the new
// address's lookup in Mattermost (with the latest change and the usage) go
// side by side, and the address is looked up once per change.
func TestReadsUnderTheLockGoSideBySide(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	mm := &meetingMattermost{Mattermost: h.mm, meeting: newMeeting()}
	d := h.deps(h.z)
	d.Mattermost = mm
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("the reads did not meet: %s (%v)", res.Change.State, res.Failure)
	}
	if n := mm.finds.Load(); n != 1 {
		t.Errorf("the new address looked up %d times in Mattermost, want once", n)
	}
}

// The answers are taken in the order of the checks: a user who cannot
// change (an open change) is told so, though the address is taken too.
func TestReadsUnderTheLockAnsweredInOrder(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "u2", Username: "bob", Email: annNew}}, ann)
	ch := Change{ID: "c0", UserID: "u1", State: StateWaitingForZulip, NewEmail: "x@example.org", CreatedAt: h.clock.now()}
	if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeChangeOpen || res.Open == nil || res.Open.ID != "c0" {
		t.Fatalf("%+v: want the open change", res.Failure)
	}
	// Without it, the address taken.
	ch.State = StateDone
	if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	res = h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeTakenInMattermost || h.mm.users["u1"].Email != ann {
		t.Fatalf("%+v: want the address taken, nothing changed", res.Failure)
	}
}

// panickyMattermost panics while looking up an address.
type panickyMattermost struct{ Mattermost }

func (panickyMattermost) FindUserByEmail(string) (User, error) { panic("adapter bug") }

// A panic in a read made side by side fails that read, as it would in the
// request's own goroutine: the change is refused, nothing changes, the
// lock is let go, and the plugin lives.
func TestReadUnderTheLockThatPanicsFailsTheChange(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	d := h.deps(h.z)
	d.Mattermost = panickyMattermost{h.mm}
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeMattermostFailed || res.Change.State != StateRefused {
		t.Fatalf("%s %+v: want refused, Mattermost failed", res.Change.State, res.Failure)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann || h.locker.held["u1"] {
		t.Errorf("Mattermost %s, Zulip %s, lock held %v", h.mm.users["u1"].Email, h.z.addrOf(10), h.locker.held["u1"])
	}
}
