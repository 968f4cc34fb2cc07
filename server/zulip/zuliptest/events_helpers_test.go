package zuliptest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// register registers a queue as c with an optional form.
func register(t *testing.T, f *fixture, c creds, form url.Values) answer {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return call(t, f.srv, http.MethodPost, "/api/v1/register", form, c)
}

// registerQueue registers a realm_user queue as c and returns its ID.
func registerQueue(t *testing.T, f *fixture, c creds) string {
	t.Helper()
	a := register(t, f, c, url.Values{"event_types": {`["realm_user"]`}, "fetch_event_types": {`["realm"]`}})
	id := a.str("queue_id")
	if a.status != 200 || id == "" {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	return id
}

func eventsPath(queueID string, last int, extra string) string {
	return "/api/v1/events?" + url.Values{"queue_id": {queueID}, "last_event_id": {strconv.Itoa(last)}}.Encode() + extra
}

// peek polls without blocking.
func peek(t *testing.T, f *fixture, c creds, queueID string, last int) answer {
	t.Helper()
	return call(t, f.srv, http.MethodGet, eventsPath(queueID, last, "&dont_block=true"), nil, c)
}

// events returns the events of an answer, as decoded JSON.
func (a answer) events(t *testing.T) []any {
	t.Helper()
	list, ok := a.body["events"].([]any)
	if a.status != 200 || !ok {
		t.Fatalf("no events: %d %s", a.status, a.raw)
	}
	return list
}

// asJSON is v as decoded JSON, to compare with decoded answers.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameJSON fails t unless got and want are the same JSON.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// update is a realm_user update event as the emulator sends it.
func update(id int, person map[string]any) map[string]any {
	return map[string]any{"id": id, "type": "realm_user", "op": "update", "person": person}
}

// emailEvents are the events of an address change of u to addr, in order:
// delivery_email when the viewer may see it, the avatar, and new_email
// when the API address is the real one.
func emailEvents(first int, u User, addr string, seesAddress, apiIsReal bool) []any {
	var out []any
	id := first
	if seesAddress {
		out = append(out, update(id, map[string]any{"user_id": u.ID, "delivery_email": addr}))
		id++
	}
	out = append(out, update(id, map[string]any{"user_id": u.ID, "avatar_source": "G",
		"avatar_url": gravatarURL(addr), "avatar_url_medium": gravatarURL(addr) + "&s=500", "avatar_version": 1}))
	id++
	if apiIsReal {
		out = append(out, update(id, map[string]any{"user_id": u.ID, "new_email": addr}))
	}
	return out
}

// pollResult is the outcome of an asynchronous poll.
type pollResult struct {
	status int
	body   map[string]any
	raw    string
	err    error
	took   time.Duration
}

// pollAsync sends a blocking GET /events in the background.
func pollAsync(ctx context.Context, s *Server, c creds, queueID string, last int) <-chan pollResult {
	out := make(chan pollResult, 1)
	go func() {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+eventsPath(queueID, last, ""), nil)
		if err != nil {
			out <- pollResult{err: err}
			return
		}
		req.SetBasicAuth(c.email, c.key)
		resp, err := noRedirects.Do(req)
		if err != nil {
			out <- pollResult{err: err, took: time.Since(start)}
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := pollResult{status: resp.StatusCode, raw: string(raw), took: time.Since(start)}
		_ = json.Unmarshal(raw, &r.body)
		out <- r
	}()
	return out
}

// waitPolling waits until a GET /events waits on the queue.
func waitPolling(t *testing.T, s *Server, queueID string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		q := s.events.queues[queueID]
		waiting := q != nil && q.handler != 0
		s.mu.Unlock()
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no poll is waiting on queue %s", queueID)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitIdle waits until no GET /events waits on the queue.
func waitIdle(t *testing.T, s *Server, queueID string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		q := s.events.queues[queueID]
		idle := q == nil || q.handler == 0
		s.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a poll still waits on queue %s", queueID)
		}
		time.Sleep(time.Millisecond)
	}
}

// receive waits for a poll's outcome.
func receive(t *testing.T, ch <-chan pollResult, within time.Duration) pollResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		t.Fatalf("the poll did not end within %s", within)
		return pollResult{}
	}
}
