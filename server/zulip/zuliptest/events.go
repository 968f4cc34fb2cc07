package zuliptest

import (
	"crypto/rand"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Defaults of the event system, as in Zulip's Tornado server.
const (
	// DefaultEventHeartbeat is how long GET /events waits for an event
	// before it answers with a heartbeat (Zulip: 45 to 55 s).
	DefaultEventHeartbeat = 45 * time.Second
	// DefaultEventQueueTimeout is how long a queue nobody polls is kept
	// (Zulip: 10 minutes since the last poll began).
	DefaultEventQueueTimeout = 10 * time.Minute
)

// eventState is the server's event queues. Guarded by Server.mu, except
// closing.
type eventState struct {
	heartbeat    time.Duration
	queueTimeout time.Duration
	queues       map[string]*eventQueue
	nextHandler  int
	closing      chan struct{}
	closeOnce    sync.Once
}

func newEventState() eventState {
	return eventState{
		heartbeat:    DefaultEventHeartbeat,
		queueTimeout: DefaultEventQueueTimeout,
		queues:       make(map[string]*eventQueue),
		closing:      make(chan struct{}),
	}
}

// eventQueue is one registered queue, as Zulip's ClientDescriptor and
// EventQueue.
type eventQueue struct {
	id          string
	owner       int
	types       []string // nil: every type
	events      []map[string]any
	nextID      int
	newestAcked int       // Zulip's newest_pruned_id
	lastConnect time.Time // registration, or the last poll that waited
	handler     int       // the waiting GET /events; 0 when none
	wake        chan struct{}
}

func (q *eventQueue) accepts(typ string) bool {
	return q.types == nil || slices.Contains(q.types, typ)
}

// push appends ev with the queue's next ID and wakes the waiting poll.
func (q *eventQueue) push(ev map[string]any) {
	ev["id"] = q.nextID
	q.nextID++
	q.events = append(q.events, ev)
	q.wakeUp()
}

func (q *eventQueue) wakeUp() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// WithEventHeartbeat sets how long GET /events waits for an event before it
// answers with a heartbeat (default 45 s, as Zulip). POST /register reports
// twice this, in whole seconds, as event_queue_longpoll_timeout_seconds
// (Zulip: 90).
func WithEventHeartbeat(d time.Duration) Option {
	return func(s *Server) { s.events.heartbeat = d }
}

// WithEventQueueTimeout sets how long a queue nobody polls is kept before it
// is garbage-collected (default 10 minutes, as Zulip), by the server's
// clock. Polling it afterwards answers 400 BAD_EVENT_QUEUE_ID.
func WithEventQueueTimeout(d time.Duration) Option {
	return func(s *Server) { s.events.queueTimeout = d }
}

// longPollTimeoutSeconds is event_queue_longpoll_timeout_seconds.
func (s *Server) longPollTimeoutSecondsLocked() int {
	return max(1, int(math.Ceil(2*s.events.heartbeat.Seconds())))
}

// registerQueueLocked creates a queue for owner.
func (s *Server) registerQueueLocked(owner int, types []string) *eventQueue {
	s.gcQueuesLocked()
	q := &eventQueue{
		id:          newQueueID(),
		owner:       owner,
		types:       types,
		newestAcked: -1,
		lastConnect: s.now(),
		wake:        make(chan struct{}),
	}
	s.events.queues[q.id] = q
	return q
}

// newQueueID is a random UUID, as Zulip's: a queue ID of another server (or
// of this one before a restart) is unknown here.
func newQueueID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// gcQueuesLocked drops the queues nobody polls whose last poll (or
// registration) began at least the queue timeout ago, as Zulip's
// gc_event_queues.
func (s *Server) gcQueuesLocked() {
	now := s.now()
	for id, q := range s.events.queues {
		if q.handler == 0 && now.Sub(q.lastConnect) >= s.events.queueTimeout {
			delete(s.events.queues, id)
		}
	}
}

// ExpireEventQueues garbage-collects every queue no GET /events is waiting
// on, as if its idle timeout had passed: polling one afterwards answers 400
// BAD_EVENT_QUEUE_ID. It returns how many it dropped.
func (s *Server) ExpireEventQueues() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, q := range s.events.queues {
		if q.handler == 0 {
			delete(s.events.queues, id)
			n++
		}
	}
	return n
}

// EventQueueCount is how many event queues exist (expired ones dropped
// first).
func (s *Server) EventQueueCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gcQueuesLocked()
	return len(s.events.queues)
}

// stopPolls makes every waiting GET /events answer at once (Server.Close).
func (s *Server) stopPolls() {
	s.events.closeOnce.Do(func() { close(s.events.closing) })
}

// ChangeEmailInSettings changes the user's address as Zulip does when the
// user changes it in their own settings and opens the confirmation link
// (do_change_user_delivery_email): the same events as an administrator's
// change. It panics if there is no such user or another user has the
// address: that is a mistake in the test.
func (s *Server) ChangeEmailInSettings(id int, newEmail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("zuliptest: ChangeEmailInSettings: no user with ID %d", id))
	}
	if other, taken := s.byEmailLocked(newEmail); taken && other.ID != id {
		panic(fmt.Sprintf("zuliptest: ChangeEmailInSettings: address %q already belongs to user %d", newEmail, other.ID))
	}
	u.Email = newEmail
	s.storeUserLocked(u)
}

// SetDeactivated deactivates (or reactivates) the user, as an administrator
// does, with Zulip's events. It panics if there is no such user.
func (s *Server) SetDeactivated(id int, deactivated bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("zuliptest: SetDeactivated: no user with ID %d", id))
	}
	u.Deactivated = deactivated
	s.storeUserLocked(u)
}

// storeUserLocked replaces the stored user with u (same ID) and sends the
// realm_user events the change makes in Zulip to every queue that takes
// them.
func (s *Server) storeUserLocked(u User) {
	old := s.users[u.ID]
	s.users[u.ID] = u
	if len(s.events.queues) == 0 {
		return
	}
	s.gcQueuesLocked()
	for _, q := range s.events.queues {
		viewer, ok := s.users[q.owner]
		if !ok || viewer.Deactivated || !q.accepts("realm_user") {
			continue
		}
		for _, person := range s.userEventsLocked(viewer, old, u) {
			q.push(person)
		}
	}
}

// seesRealAddress is Zulip's can_access_delivery_email: users always see
// their own address.
func seesRealAddress(viewer, target User) bool {
	return viewer.ID == target.ID || canSeeEmailOf(viewer, target)
}

// userEventsLocked is what viewer's queue gets when old becomes cur, in
// Zulip's order:
//
//   - delivery_email, only to those who may see the real address: the new
//     address when it changed, or when the viewer gains sight of it (a
//     visibility change); null when the viewer loses it;
//   - the avatar (the emulator's users use Gravatar, which follows the
//     address) when the address changed;
//   - new_email, to everyone, when the API address changed;
//   - is_active when (de)activated (feature level 222+; before, op remove
//     on deactivation and op add on reactivation).
func (s *Server) userEventsLocked(viewer, old, cur User) []map[string]any {
	update := func(person map[string]any) map[string]any {
		person["user_id"] = cur.ID
		return map[string]any{"type": "realm_user", "op": "update", "person": person}
	}
	var out []map[string]any
	emailChanged := old.Email != cur.Email
	sawOld, seesNew := seesRealAddress(viewer, old), seesRealAddress(viewer, cur)
	if emailChanged && seesNew || sawOld != seesNew {
		var addr any // null: no longer visible
		if seesNew {
			addr = cur.Email
		}
		out = append(out, update(map[string]any{"delivery_email": addr}))
	}
	if emailChanged {
		out = append(out, update(map[string]any{
			"avatar_source":     "G",
			"avatar_url":        gravatarURL(cur.Email),
			"avatar_url_medium": gravatarURL(cur.Email) + "&s=500",
			"avatar_version":    1,
		}))
	}
	if api := s.apiEmailLocked(cur); api != s.apiEmailLocked(old) {
		out = append(out, update(map[string]any{"new_email": api}))
	}
	if old.Deactivated != cur.Deactivated {
		switch {
		case s.level >= 222:
			out = append(out, update(map[string]any{"is_active": !cur.Deactivated}))
		case cur.Deactivated:
			out = append(out, map[string]any{"type": "realm_user", "op": "remove",
				"person": map[string]any{"user_id": cur.ID, "full_name": cur.FullName}})
		default:
			out = append(out, map[string]any{"type": "realm_user", "op": "add",
				"person": s.userObjectLocked(viewer, cur, false, !cur.IsBot)})
		}
	}
	return out
}
