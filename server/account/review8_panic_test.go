package account

import (
	"context"
	"sync"
	"testing"
	"time"
)

// review8Locker is a locker safe for the lock goroutine lockAhead starts.
type review8Locker struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *review8Locker) TryLock(_ context.Context, id string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		return nil, false, nil
	}
	l.held[id] = true
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, id)
	}, true, nil
}

func (l *review8Locker) isHeld(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[id]
}

type review8LockStore struct {
	memStore
	l *review8Locker
}

func (s review8LockStore) TryLock(ctx context.Context, id string) (func(), bool, error) {
	return s.l.TryLock(ctx, id)
}

// review8PanickySession panics on the session's read (an adapter bug, a
// nil answer of the server): the gates' first call.
type review8PanickySession struct{ Mattermost }

func (review8PanickySession) GetSession(string) (Session, error) { panic("session adapter bug") }

// Review 8, finding: a user's own change asks for their lock ahead, side by
// side with the gates. A gate that panics (recovered by the HTTP handler's
// recoverMiddleware, so the plugin lives) unwinds ChangeEmail before
// lock.take/defer unlock(): the lock taken ahead is never let go, and the
// user (and the job, for their open changes) is "busy" until the lock's
// TTL (store.DefaultLockTTL, 3 minutes). Before 759b905..HEAD the gates
// ran before any lock was taken.
func TestReview8GatePanicLeavesTheLockHeld(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	l := &review8Locker{held: map[string]bool{}}
	d := h.deps(h.z)
	d.Store = review8LockStore{memStore: d.Store.(memStore), l: l}
	d.Mattermost = review8PanickySession{h.mm}
	s := newTestService(d, withNow(h))

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the gate's panic did not reach the caller")
			}
		}()
		s.ChangeEmail(context.Background(), req(annNew))
	}()

	// Let the goroutine that asked for the lock answer.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) && !l.isHeld("u1") {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if l.isHeld("u1") {
		t.Fatal("after a panic in the gates the user's lock is still held (until its TTL): the lock asked for ahead is never released")
	}
}

// review8PanickySave panics on a new record's save once the agreed
// address's move has started (the meeting): an adapter bug, or the process
// dying there.
type review8PanickySave struct {
	*memRecorder
	*meeting
}

func (r *review8PanickySave) SaveChange(ctx context.Context, c *Change) error {
	if c.Version == 0 {
		r.meet()
		time.Sleep(20 * time.Millisecond) // the move lands
		panic("record save: adapter bug")
	}
	return r.memRecorder.SaveChange(ctx, c)
}

// review8DoneAgreed meets the save, then tells when the move has landed.
type review8DoneAgreed struct {
	*memLinks
	*meeting
	mu    sync.Mutex
	moves int
	done  chan struct{}
}

func (m *review8DoneAgreed) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	m.mu.Lock()
	m.moves++
	first := m.moves == 1
	m.mu.Unlock()
	if first {
		m.meet()
	}
	before, ok, err := m.memLinks.SetAgreedEmail(userID, zulipUserID, email)
	if first {
		close(m.done)
	}
	return before, ok, err
}

// Review 8, finding: saveAndAgreeAhead moves the agreed address side by
// side with the new change's write-ahead record and puts it back "if the
// record is not saved" only when SaveChange returns. When the save panics
// (recovered by the HTTP handler) — or the process dies there — nothing
// puts it back: the link says both systems agreed on the new address while
// Mattermost and Zulip still hold the old one, and no record exists for
// the job or agreeOnEnd to fix it. Before, the address moved only after the
// record was saved.
func TestReview8SavePanicLeavesTheAgreedAddressMoved(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
	mt := newMeeting()
	agreed := &review8DoneAgreed{memLinks: h.links, meeting: mt, done: make(chan struct{})}
	s := recorderService(h, &review8PanickySave{h.rec, mt}, agreed)

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the save's panic did not reach the caller")
			}
		}()
		s.ChangeEmail(context.Background(), req(annNew))
	}()
	select {
	case <-agreed.done:
	case <-time.After(2 * time.Second):
		t.Fatal("the agreed address was never moved")
	}
	if _, ok := h.rec.byID[""]; ok || len(h.rec.saved) != 0 {
		t.Fatalf("records %+v: want none", h.rec.saved)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann {
		t.Fatalf("Mattermost %s, Zulip %s: want both untouched", h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if l, _, _ := h.links.Link("u1"); l.AgreedEmail != ann {
		t.Errorf("agreed address %q with no record and both systems at %q: a change that never happened moved it (and nothing will put it back)", l.AgreedEmail, ann)
	}
}
