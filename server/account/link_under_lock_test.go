package account

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// meetingLinks holds the link's read until the user's read has started
// (and the other way round), and counts the reads and the agreed
// address's writes.
type meetingLinks struct {
	*memLinks
	*meeting
	reads, agreed atomic.Int32
}

func (m *meetingLinks) Link(userID string) (Link, bool, error) {
	m.reads.Add(1)
	if m.meeting != nil && !m.meet() {
		return Link{}, false, errDown
	}
	return m.memLinks.Link(userID)
}

func (m *meetingLinks) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	m.agreed.Add(1)
	return m.memLinks.SetAgreedEmail(userID, zulipUserID, email)
}

// userMeeting meets on the user's read only.
type userMeeting struct {
	Mattermost
	*meeting
}

func (m userMeeting) GetUser(id string) (User, error) {
	if !m.meet() {
		return User{}, errDown
	}
	return m.Mattermost.GetUser(id)
}

// linksService wires h with links in place of its own, and mm when given.
func linksService(h *harness, links Links, mm Mattermost) *Service {
	d := h.deps(h.z)
	st := d.Store.(memStore)
	d.Store = struct {
		memStore
		Links
	}{st, links}
	if mm != nil {
		d.Mattermost = mm
	}
	return newTestService(d, withNow(h))
}

// Issue 17: with Zulip sync on, the link goes with the user's other reads
// under the lock (one round trip less), read once per change; the agreed
// address is written once, ahead, for a change that ends with Zulip
// changed; both systems and the link end at the new address.
func TestLinkReadWithTheUsersReads(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	links := &meetingLinks{memLinks: h.links, meeting: newMeeting()}
	mt := newMeeting()
	links.meeting = mt
	res := linksService(h, links, userMeeting{h.mm, mt}).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || res.Failure != nil {
		t.Fatalf("%s %+v: the reads did not meet", res.Change.State, res.Failure)
	}
	if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Errorf("Mattermost %s, Zulip %s", h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if n := links.reads.Load(); n != 1 {
		t.Errorf("the link read %d times, want once", n)
	}
	if n := links.agreed.Load(); n != 1 {
		t.Errorf("the agreed address written %d times, want once (ahead)", n)
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != annNew {
		t.Errorf("agreed %q, want %q", l.AgreedEmail, annNew)
	}
	if res.Change.AgreedBefore != ann {
		t.Errorf("agreed before %q, want %q", res.Change.AgreedBefore, ann)
	}
	if h.locker.held["u1"] {
		t.Error("the lock is still held")
	}
}

// A change Zulip refuses puts the agreed address back, though it was
// moved ahead by the same request.
func TestAgreedPutBackWhenZulipRefuses(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	h.z.patchErrs = []error{nil, errTaken} // the facts' probe passes, the change is refused
	links := &meetingLinks{memLinks: h.links}
	res := linksService(h, links, nil).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateRolledBack || h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != ann {
		t.Errorf("agreed %q, want it back at %q", l.AgreedEmail, ann)
	}
	if n := links.agreed.Load(); n != 2 {
		t.Errorf("the agreed address written %d times, want ahead and back", n)
	}
}

// A link that cannot be read refuses the change as before: nothing
// changes anywhere, the lock is let go.
func TestLinkReadUnderTheLockFails(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	h.links.err = errors.New("kv down")
	refusedAsInternal(t, h, h.service().ChangeEmail(context.Background(), req(annNew)))
	if _, ok, _ := h.rec.LatestChange("u1"); ok {
		t.Error("a record was stored")
	}
}

// flakyAgreed fails the first write of the agreed address.
type flakyAgreed struct {
	*memLinks
	failed bool
}

func (f *flakyAgreed) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	if !f.failed {
		f.failed = true
		return "", false, errors.New("kv down")
	}
	return f.memLinks.SetAgreedEmail(userID, zulipUserID, email)
}

// When the move ahead could not be written, the change's end writes it:
// the link ends where both systems did.
func TestAgreedWrittenAtTheEndWhenAheadFailed(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	res := linksService(h, &flakyAgreed{memLinks: h.links}, nil).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != annNew {
		t.Errorf("agreed %q, want %q", l.AgreedEmail, annNew)
	}
}

// refusedAsInternal checks that Ann's change was refused for an internal
// failure, changed neither system, and let go of her lock.
func refusedAsInternal(t *testing.T, h *harness, res Result) {
	t.Helper()
	if res.Change.State != StateRefused || res.Failure == nil || res.Failure.Code != CodeInternal {
		t.Fatalf("%s %+v: want refused, internal", res.Change.State, res.Failure)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann || h.locker.held["u1"] {
		t.Errorf("Mattermost %s, Zulip %s, lock held %v", h.mm.users["u1"].Email, h.z.addrOf(10), h.locker.held["u1"])
	}
}
