package account

import (
	"context"
	"sync/atomic"
	"testing"
)

// sessionMeeting holds the session's read until the lock is asked for (and
// the other way round).
type sessionMeeting struct {
	Mattermost
	*meeting
}

func (m sessionMeeting) GetSession(id string) (Session, error) {
	if !m.meet() {
		return Session{}, errDown
	}
	return m.Mattermost.GetSession(id)
}

// meetingLocker meets on the lock and counts the locks asked for.
type meetingLocker struct {
	*memLocker
	*meeting
	asked atomic.Int32
}

func (l *meetingLocker) TryLock(ctx context.Context, id string) (func(), bool, error) {
	l.asked.Add(1)
	if l.meeting != nil && !l.meet() {
		return nil, false, errDown
	}
	return l.memLocker.TryLock(ctx, id)
}

// lockerStore is the harness's store with another Locker.
type lockerStore struct {
	memStore
	l *meetingLocker
}

func (s lockerStore) TryLock(ctx context.Context, id string) (func(), bool, error) {
	return s.l.TryLock(ctx, id)
}

func lockerService(h *harness, l *meetingLocker, mm Mattermost) *Service {
	d := h.deps(h.z)
	d.Store = lockerStore{memStore: d.Store.(memStore), l: l}
	if mm != nil {
		d.Mattermost = mm
	}
	return newTestService(d, withNow(h))
}

// Issue 17: a user's own change asks for their lock side by side with the
// session's read (one round trip less); the change is made as before and
// the lock let go.
func TestOwnChangeLocksBesideTheSession(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	mt := newMeeting()
	l := &meetingLocker{memLocker: h.locker, meeting: mt}
	res := lockerService(h, l, sessionMeeting{h.mm, mt}).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || res.Failure != nil || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
		t.Fatalf("%s %+v; Mattermost %s, Zulip %s", res.Change.State, res.Failure, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if n := l.asked.Load(); n != 1 || h.locker.held["u1"] {
		t.Errorf("locks asked %d, held after %v", n, h.locker.held["u1"])
	}
}

// A change its gates refuse lets go of the lock asked for ahead, and says
// why it was refused, not that the user is busy.
func TestRefusedOwnChangeLetsGoOfTheLock(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.mm.sessions["s-u1"] = Session{UserID: "u1", IsOAuth: true}
	l := &meetingLocker{memLocker: h.locker}
	res := lockerService(h, l, nil).ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeOAuthRefused || h.mm.users["u1"].Email != ann {
		t.Fatalf("%+v: want the OAuth refusal", res.Failure)
	}
	if h.locker.held["u1"] {
		t.Error("the lock is still held")
	}
	if n := l.asked.Load(); n != 1 {
		t.Errorf("locks asked %d, want 1 (ahead)", n)
	}

	// Another change of Ann's runs: the refusal is still the session's.
	h.locker.held["u1"] = true
	res = lockerService(h, l, nil).ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeOAuthRefused || !h.locker.held["u1"] {
		t.Fatalf("%+v, held %v: want the OAuth refusal, the other change's lock kept", res.Failure, h.locker.held["u1"])
	}
}

// An admin's change for someone takes that user's lock only once the
// admin is checked: a user who is not one never holds it, even for a
// moment.
func TestOnBehalfLocksOnlyAfterTheAdminCheck(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "u2", Username: "bob", Email: "bob@example.org"}}, ann)
	l := &meetingLocker{memLocker: h.locker}
	r := Request{UserID: "u1", ActorID: "u2", SessionID: "s-u2", NewEmail: annNew}
	res := lockerService(h, l, nil).ChangeEmail(context.Background(), r)
	if res.Failure == nil || res.Failure.Code != CodeAdminOnly || h.mm.users["u1"].Email != ann {
		t.Fatalf("%+v: want admin only", res.Failure)
	}
	if n := l.asked.Load(); n != 0 {
		t.Errorf("the lock of the user was asked for %d times", n)
	}
}
