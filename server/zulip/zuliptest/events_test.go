package zuliptest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRegisterCreatesAQueue(t *testing.T) {
	f := newFixture(t, WithEventHeartbeat(time.Second))
	a := register(t, f, f.as(f.owner), url.Values{"event_types": {`["realm_user"]`}, "fetch_event_types": {`["realm"]`}})
	id := a.str("queue_id")
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Fatalf("queue_id %q is not a UUID: %s", id, a.raw)
	}
	sameJSON(t, "register", a.body, map[string]any{
		"result": "success", "msg": "", "queue_id": id, "last_event_id": -1,
		"zulip_feature_level": DefaultFeatureLevel, "zulip_version": "10.0", "zulip_merge_base": "10.0",
		"event_queue_longpoll_timeout_seconds": 2,
	})
	if other := registerQueue(t, f, f.as(f.owner)); other == id {
		t.Errorf("two registrations got the same queue %s", id)
	}
	if n := f.srv.EventQueueCount(); n != 2 {
		t.Errorf("%d queues, want 2", n)
	}
	sameJSON(t, "a new queue", peek(t, f, f.as(f.owner), id, -1).body, map[string]any{"result": "success", "msg": "", "events": []any{}})
}

func TestRegisterReportsZulipsLongPollTimeoutByDefault(t *testing.T) {
	f := newFixture(t)
	a := register(t, f, f.as(f.owner), url.Values{"fetch_event_types": {`["realm"]`}})
	if got := a.body["event_queue_longpoll_timeout_seconds"]; got != float64(90) {
		t.Errorf("event_queue_longpoll_timeout_seconds = %v, want Zulip's 90", got)
	}
}

func TestRegisterFetchesTheUsersOfRealmUser(t *testing.T) {
	f := newFixture(t)
	// fetch_event_types defaults to event_types.
	a := register(t, f, f.as(f.member), url.Values{"event_types": {`["realm_user"]`}})
	if _, ok := a.body["event_queue_longpoll_timeout_seconds"]; ok {
		t.Errorf("realm's state without fetching realm: %s", a.raw)
	}
	all := call(t, f.srv, http.MethodGet, "/api/v1/users", nil, f.as(f.member)).body["members"].([]any)
	var active, inactive []any
	for _, m := range all {
		if m.(map[string]any)["is_active"] == true {
			active = append(active, m)
		} else {
			inactive = append(inactive, m)
		}
	}
	if len(inactive) != 2 {
		t.Fatalf("fixture has %d deactivated users, want 2", len(inactive))
	}
	sameJSON(t, "realm_users", a.body["realm_users"], active)
	sameJSON(t, "realm_non_active_users", a.body["realm_non_active_users"], inactive)
}

func TestRegisterRefusesEventTypesThatAreNotJSON(t *testing.T) {
	f := newFixture(t)
	a := register(t, f, f.as(f.owner), url.Values{"event_types": {"realm_user"}})
	if a.status != 400 || a.str("code") != CodeBadRequest || a.str("msg") != `Argument "event_types" is not valid JSON.` {
		t.Errorf("got %d %s", a.status, a.raw)
	}
	if n := f.srv.EventQueueCount(); n != 0 {
		t.Errorf("a refused registration made %d queues", n)
	}
}

// TestEmailChangeEventsFollowVisibility: each bot's queue gets the change
// of each user's address, with delivery_email only where its role may see
// the address (admins see all but "nobody"), and new_email only when the
// API address is the real one.
func TestEmailChangeEventsFollowVisibility(t *testing.T) {
	type viewers struct{ owner, mod, member, guest bool }
	cases := []struct {
		name   string
		target func(f *fixture) User
		sees   viewers
		public bool
	}{
		{"everyone", func(f *fixture) User { return f.ann }, viewers{true, true, true, true}, true},
		{"members", func(f *fixture) User { return f.membersOnly }, viewers{true, true, true, false}, false},
		{"moderators", func(f *fixture) User { return f.modsOnly }, viewers{true, true, false, false}, false},
		{"admins", func(f *fixture) User { return f.adminsOnly }, viewers{true, false, false, false}, false},
		{"nobody", func(f *fixture) User { return f.hidden }, viewers{false, false, false, false}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			bots := []struct {
				who  User
				sees bool
			}{{f.owner, c.sees.owner}, {f.mod, c.sees.mod}, {f.member, c.sees.member}, {f.guest, c.sees.guest}}
			queues := make([]string, len(bots))
			for i, b := range bots {
				queues[i] = registerQueue(t, f, f.as(b.who))
			}
			target := c.target(f)
			addr := "changed." + c.name + "@example.org"
			if a := call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(target.ID)), newEmailForm(addr), f.as(f.owner)); a.status != 200 {
				t.Fatalf("patch: %d %s", a.status, a.raw)
			}
			for i, b := range bots {
				got := peek(t, f, f.as(b.who), queues[i], -1).events(t)
				sameJSON(t, b.who.Email+" sees", got, emailEvents(0, target, addr, b.sees, c.public))
			}
		})
	}
}

func TestEveryWayOfChangingAnAddressSendsTheEvents(t *testing.T) {
	ways := map[string]func(t *testing.T, f *fixture, addr string){
		"patch by id": func(t *testing.T, f *fixture, addr string) {
			call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm(addr), f.as(f.owner))
		},
		"patch by email": func(t *testing.T, f *fixture, addr string) {
			call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm(addr), f.as(f.admin))
		},
		"the user's own settings": func(_ *testing.T, f *fixture, addr string) {
			f.srv.ChangeEmailInSettings(f.ann.ID, addr)
		},
		"UpdateUser": func(_ *testing.T, f *fixture, addr string) {
			u := f.ann
			u.Email = addr
			f.srv.UpdateUser(u)
		},
	}
	for name, change := range ways {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			q := registerQueue(t, f, f.as(f.owner))
			change(t, f, "ann.new@example.org")
			if u, _ := f.srv.User(f.ann.ID); u.Email != "ann.new@example.org" {
				t.Fatalf("address is %q", u.Email)
			}
			sameJSON(t, "events", peek(t, f, f.as(f.owner), q, -1).events(t), emailEvents(0, f.ann, "ann.new@example.org", true, true))
		})
	}
}

func TestRefusedChangesSendNothing(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	for _, addr := range []string{"members@example.org", "not an address", f.ann.Email} {
		call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm(addr), f.as(f.owner))
	}
	call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.member))
	if got := peek(t, f, f.as(f.owner), q, -1).events(t); len(got) != 0 {
		t.Errorf("refused or no-op changes sent %v", got)
	}
}

func TestVisibilityChangesSendDeliveryEmail(t *testing.T) {
	f := newFixture(t)
	qOwner, qMember := registerQueue(t, f, f.as(f.owner)), registerQueue(t, f, f.as(f.member))
	ann := f.ann
	ann.EmailVisibility = VisibilityAdmins
	f.srv.UpdateUser(ann)
	dummy := f.srv.DummyEmail(ann.ID)
	sameJSON(t, "owner, hidden from members", peek(t, f, f.as(f.owner), qOwner, -1).events(t), []any{
		update(0, map[string]any{"user_id": ann.ID, "new_email": dummy}),
	})
	sameJSON(t, "member, hidden from members", peek(t, f, f.as(f.member), qMember, -1).events(t), []any{
		update(0, map[string]any{"user_id": ann.ID, "delivery_email": nil}),
		update(1, map[string]any{"user_id": ann.ID, "new_email": dummy}),
	})
	ann.EmailVisibility = VisibilityEveryone
	f.srv.UpdateUser(ann)
	sameJSON(t, "member, public again", peek(t, f, f.as(f.member), qMember, 1).events(t), []any{
		update(2, map[string]any{"user_id": ann.ID, "delivery_email": ann.Email}),
		update(3, map[string]any{"user_id": ann.ID, "new_email": ann.Email}),
	})
}

func TestDeactivationEvents(t *testing.T) {
	t.Run("feature level 222 and above: is_active", func(t *testing.T) {
		f := newFixture(t)
		q := registerQueue(t, f, f.as(f.owner))
		f.srv.SetDeactivated(f.ann.ID, true)
		f.srv.SetDeactivated(f.ann.ID, false)
		sameJSON(t, "events", peek(t, f, f.as(f.owner), q, -1).events(t), []any{
			update(0, map[string]any{"user_id": f.ann.ID, "is_active": false}),
			update(1, map[string]any{"user_id": f.ann.ID, "is_active": true}),
		})
	})
	t.Run("below 222: remove, then add", func(t *testing.T) {
		f := newFixture(t, WithFeatureLevel(221))
		q := registerQueue(t, f, f.as(f.owner))
		f.srv.SetDeactivated(f.ann.ID, true)
		f.srv.SetDeactivated(f.ann.ID, false)
		person := call(t, f.srv, http.MethodGet, userPath(strconv.Itoa(f.ann.ID))+"?client_gravatar=false&include_custom_profile_fields=true", nil, f.as(f.owner)).body["user"]
		sameJSON(t, "events", peek(t, f, f.as(f.owner), q, -1).events(t), []any{
			map[string]any{"id": 0, "type": "realm_user", "op": "remove", "person": map[string]any{"user_id": f.ann.ID, "full_name": "Ann"}},
			map[string]any{"id": 1, "type": "realm_user", "op": "add", "person": person},
		})
	})
}

func TestEventTypesChooseTheEvents(t *testing.T) {
	f := newFixture(t)
	messagesOnly := register(t, f, f.as(f.owner), url.Values{"event_types": {`["message"]`}}).str("queue_id")
	everything := register(t, f, f.as(f.owner), nil).str("queue_id")
	f.srv.SetDeactivated(f.ann.ID, true)
	if got := peek(t, f, f.as(f.owner), messagesOnly, -1).events(t); len(got) != 0 {
		t.Errorf("a message queue got %v", got)
	}
	sameJSON(t, "every type", peek(t, f, f.as(f.owner), everything, -1).events(t), []any{
		update(0, map[string]any{"user_id": f.ann.ID, "is_active": false}),
	})
}

func TestEventsAreAcknowledgedByLastEventID(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	f.srv.SetDeactivated(f.ann.ID, true)
	f.srv.SetDeactivated(f.ann.ID, false)
	f.srv.SetDeactivated(f.ann.ID, true)
	if got := peek(t, f, f.as(f.owner), q, -1).events(t); len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	sameJSON(t, "after acknowledging 1", peek(t, f, f.as(f.owner), q, 1).events(t), []any{
		update(2, map[string]any{"user_id": f.ann.ID, "is_active": false}),
	})
	for _, c := range []struct {
		last int
		msg  string
	}{
		{0, "An event newer than 0 has already been pruned!"},
		{7, "Event 7 was not in this queue"},
	} {
		a := peek(t, f, f.as(f.owner), q, c.last)
		if a.status != 400 || a.str("code") != CodeBadRequest || a.str("msg") != c.msg {
			t.Errorf("last_event_id %d: %d %s", c.last, a.status, a.raw)
		}
	}
	for _, path := range []string{"/api/v1/events?last_event_id=-1", "/api/v1/events?queue_id=" + q, eventsPath(q, 2, "") + "&last_event_id=x"} {
		if a := call(t, f.srv, http.MethodGet, path, nil, f.as(f.owner)); a.status != 400 || a.str("code") != CodeBadRequest {
			t.Errorf("%s: %d %s", path, a.status, a.raw)
		}
	}
}

func TestBadEventQueueID(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(clock))
	want := func(t *testing.T, a answer, id string) {
		t.Helper()
		sameJSON(t, "answer", a.body, map[string]any{"result": "error", "code": "BAD_EVENT_QUEUE_ID", "msg": "Bad event queue ID: " + id, "queue_id": id})
		if a.status != 400 {
			t.Errorf("status %d", a.status)
		}
	}
	t.Run("unknown", func(t *testing.T) {
		want(t, peek(t, f, f.as(f.owner), "fb67bf8a-c031-47cc-84cf-ed80accacda8", -1), "fb67bf8a-c031-47cc-84cf-ed80accacda8")
	})
	t.Run("another bot's", func(t *testing.T) {
		q := registerQueue(t, f, f.as(f.admin))
		want(t, peek(t, f, f.as(f.owner), q, -1), q)
		if a := peek(t, f, f.as(f.admin), q, -1); a.status != 200 {
			t.Errorf("the owner's poll: %d %s", a.status, a.raw)
		}
	})
	t.Run("idle for 10 minutes", func(t *testing.T) {
		q := registerQueue(t, f, f.as(f.owner))
		clock.Advance(10*time.Minute - time.Second)
		// A poll that answers at once does not keep the queue.
		if a := peek(t, f, f.as(f.owner), q, -1); a.status != 200 {
			t.Fatalf("before 10 minutes: %d %s", a.status, a.raw)
		}
		clock.Advance(time.Second)
		want(t, peek(t, f, f.as(f.owner), q, -1), q)
	})
}

// TestAQueueBeingPolledDoesNotExpire: a queue expires once nobody has
// polled it for the timeout, counted from the last poll's start.
func TestAQueueBeingPolledDoesNotExpire(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(clock), WithEventQueueTimeout(time.Minute))
	q := registerQueue(t, f, f.as(f.owner))
	clock.Advance(50 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := pollAsync(ctx, f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	clock.Advance(2 * time.Minute)
	if n := f.srv.EventQueueCount(); n != 1 {
		t.Errorf("a queue being polled expired (%d queues)", n)
	}
	cancel()
	if r := receive(t, done, 5*time.Second); r.err == nil {
		t.Errorf("the cancelled poll got an answer: %d %s", r.status, r.raw)
	}
	waitIdle(t, f.srv, q)
	// 2 minutes since the poll began: gone (WithEventQueueTimeout).
	if a := peek(t, f, f.as(f.owner), q, -1); a.status != 400 || a.str("code") != CodeBadEventQueueID {
		t.Errorf("after the poll: %d %s", a.status, a.raw)
	}

	// Kept for the timeout after the last poll began, not after registering.
	q = registerQueue(t, f, f.as(f.owner))
	clock.Advance(50 * time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	done = pollAsync(ctx, f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	clock.Advance(30 * time.Second)
	cancel()
	receive(t, done, 5*time.Second)
	waitIdle(t, f.srv, q)
	if a := peek(t, f, f.as(f.owner), q, -1); a.status != 200 {
		t.Errorf("30 s after the poll began: %d %s", a.status, a.raw)
	}
	clock.Advance(30 * time.Second)
	if a := peek(t, f, f.as(f.owner), q, -1); a.status != 400 || a.str("code") != CodeBadEventQueueID {
		t.Errorf("a minute after the poll began: %d %s", a.status, a.raw)
	}
}

func TestExpireEventQueues(t *testing.T) {
	f := newFixture(t)
	idle, busy := registerQueue(t, f, f.as(f.owner)), registerQueue(t, f, f.as(f.owner))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pollAsync(ctx, f.srv, f.as(f.owner), busy, -1)
	waitPolling(t, f.srv, busy)
	if n := f.srv.ExpireEventQueues(); n != 1 {
		t.Errorf("expired %d queues, want the idle one", n)
	}
	if a := peek(t, f, f.as(f.owner), idle, -1); a.status != 400 || a.str("code") != CodeBadEventQueueID {
		t.Errorf("the expired queue: %d %s", a.status, a.raw)
	}
}

func TestLongPollWaitsForAnEvent(t *testing.T) {
	f := newFixture(t) // heartbeat 45 s
	q := registerQueue(t, f, f.as(f.owner))
	done := pollAsync(context.Background(), f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	select {
	case r := <-done:
		t.Fatalf("the poll answered with nothing to tell: %s", r.raw)
	case <-time.After(50 * time.Millisecond):
	}
	f.srv.SetDeactivated(f.ann.ID, true)
	r := receive(t, done, 5*time.Second)
	sameJSON(t, "answer", r.body, map[string]any{"result": "success", "msg": "", "events": []any{
		update(0, map[string]any{"user_id": f.ann.ID, "is_active": false}),
	}})
}

func TestLongPollAnswersAHeartbeat(t *testing.T) {
	const beat = 100 * time.Millisecond
	f := newFixture(t, WithEventHeartbeat(beat))
	q := registerQueue(t, f, f.as(f.owner))
	for i := range 2 {
		r := receive(t, pollAsync(context.Background(), f.srv, f.as(f.owner), q, i-1), 5*time.Second)
		if r.took < beat {
			t.Errorf("heartbeat %d after %s, before %s", i, r.took, beat)
		}
		sameJSON(t, "heartbeat", r.body, map[string]any{"result": "success", "msg": "", "events": []any{
			map[string]any{"id": i, "type": "heartbeat"},
		}})
	}
}

func TestCancelledPollAnswersNothingAndKeepsTheEvents(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	ctx, cancel := context.WithCancel(context.Background())
	done := pollAsync(ctx, f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	cancel()
	if r := receive(t, done, 5*time.Second); r.err == nil {
		t.Fatalf("got an answer: %s", r.raw)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqs := f.srv.Requests()
		if last := reqs[len(reqs)-1]; last.Path == "/api/v1/events" {
			if last.Status != 0 {
				t.Errorf("the cancelled poll was recorded as answered %d", last.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancelled poll was not recorded")
		}
		time.Sleep(time.Millisecond)
	}
	f.srv.SetDeactivated(f.ann.ID, true)
	sameJSON(t, "events after", peek(t, f, f.as(f.owner), q, -1).events(t), []any{
		update(0, map[string]any{"user_id": f.ann.ID, "is_active": false}),
	})
}

func TestANewerPollFinishesTheWaitingOne(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	first := pollAsync(context.Background(), f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := pollAsync(ctx, f.srv, f.as(f.owner), q, -1)
	sameJSON(t, "the first poll", receive(t, first, 5*time.Second).body, map[string]any{"result": "success", "msg": "", "events": []any{}})
	waitPolling(t, f.srv, q)
	f.srv.SetDeactivated(f.ann.ID, true)
	if r := receive(t, second, 5*time.Second); r.status != 200 || len(r.body["events"].([]any)) != 1 {
		t.Errorf("the second poll: %d %s", r.status, r.raw)
	}
}

func TestCloseEndsWaitingPolls(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	done := pollAsync(context.Background(), f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	closed := make(chan struct{})
	go func() { f.srv.Close(); close(closed) }()
	r := receive(t, done, 5*time.Second)
	sameJSON(t, "answer", r.body, map[string]any{"result": "success", "msg": "", "events": []any{
		map[string]any{"id": 0, "type": "heartbeat"},
	}})
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestDeleteQueue(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	done := pollAsync(context.Background(), f.srv, f.as(f.owner), q, -1)
	waitPolling(t, f.srv, q)
	if a := call(t, f.srv, http.MethodDelete, "/api/v1/events", url.Values{"queue_id": {q}}, f.as(f.admin)); a.status != 400 || a.str("code") != CodeBadEventQueueID {
		t.Errorf("another bot deleted the queue: %d %s", a.status, a.raw)
	}
	if a := call(t, f.srv, http.MethodDelete, "/api/v1/events", url.Values{"queue_id": {q}}, f.as(f.owner)); a.status != 200 {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if r := receive(t, done, 5*time.Second); r.status != 200 {
		t.Errorf("the waiting poll: %d %s", r.status, r.raw)
	}
	if a := peek(t, f, f.as(f.owner), q, -1); a.status != 400 || a.str("code") != CodeBadEventQueueID {
		t.Errorf("poll after delete: %d %s", a.status, a.raw)
	}
	if n := f.srv.EventQueueCount(); n != 0 {
		t.Errorf("%d queues left", n)
	}
}

func TestEventEndpointsAreAuthenticatedAndRateLimited(t *testing.T) {
	f := newFixture(t)
	if a := register(t, f, creds{}, nil); a.status != 401 {
		t.Errorf("register without credentials: %d", a.status)
	}
	if a := register(t, f, f.as(f.dead), nil); a.status != 401 {
		t.Errorf("register as a deactivated bot: %d", a.status)
	}
	f.srv.SetRateLimit(1, time.Minute)
	q := registerQueue(t, f, f.as(f.owner))
	if a := peek(t, f, f.as(f.owner), q, -1); a.status != 429 {
		t.Errorf("a poll over the limit: %d", a.status)
	}
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/api/v1/register", "POST"},
		{http.MethodPost, "/api/v1/events", "GET, HEAD, DELETE"},
	} {
		a := call(t, f.srv, c.method, c.path, nil, f.as(f.owner))
		if a.status != 405 || a.header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q", c.method, c.path, a.status, a.header.Get("Allow"))
		}
	}
}

func TestEventRequestsAreRecordedWithoutTheKey(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.owner))
	peek(t, f, f.as(f.owner), q, -1)
	reqs := f.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests", len(reqs))
	}
	reg, poll := reqs[0], reqs[1]
	if reg.Method != "POST" || reg.Path != "/api/v1/register" || reg.Form.Get("event_types") != `["realm_user"]` ||
		reg.AuthEmail != f.owner.Email || reg.Status != 200 {
		t.Errorf("register recorded as %+v", reg)
	}
	if poll.Method != "GET" || poll.Path != "/api/v1/events" || poll.Form.Get("queue_id") != q ||
		poll.Form.Get("last_event_id") != "-1" || poll.AuthEmail != f.owner.Email || poll.Status != 200 {
		t.Errorf("poll recorded as %+v", poll)
	}
	if dump := fmt.Sprintf("%#v", reqs); strings.Contains(dump, ownerKey) {
		t.Errorf("the API key was recorded")
	}
}

func TestQueuesOfDeactivatedBotsGetNothing(t *testing.T) {
	f := newFixture(t)
	q := registerQueue(t, f, f.as(f.admin))
	f.srv.SetDeactivated(f.admin.ID, true)
	f.srv.SetDeactivated(f.ann.ID, true)
	f.srv.SetDeactivated(f.admin.ID, false)
	sameJSON(t, "events", peek(t, f, f.as(f.admin), q, -1).events(t), []any{
		update(0, map[string]any{"user_id": f.admin.ID, "is_active": true}),
	})
}

func TestUsersSeeTheirOwnAddress(t *testing.T) {
	f := newFixture(t)
	const key = "HumanKey0123456789abcdefghijklmn"
	me := f.srv.AddUser(User{Email: "me@example.org", FullName: "Me", APIKey: key, EmailVisibility: VisibilityNobody})
	q := registerQueue(t, f, creds{me.Email, key})
	f.srv.ChangeEmailInSettings(me.ID, "me.new@example.org")
	sameJSON(t, "events", peek(t, f, creds{"me.new@example.org", key}, q, -1).events(t), emailEvents(0, me, "me.new@example.org", true, false))
}
