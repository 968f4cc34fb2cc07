package zulip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestRegisterAsksForRealmUserEvents(t *testing.T) {
	c, got := recordingClient(t, 200, `{"result":"success","msg":"","queue_id":"q-1","last_event_id":-1,`+
		`"zulip_feature_level":332,"zulip_version":"10.0","event_queue_longpoll_timeout_seconds":90}`)
	q, err := c.Register(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Queue{ID: "q-1", LastEventID: -1, LongPollTimeout: 90 * time.Second}); q != want {
		t.Errorf("queue %+v, want %+v", q, want)
	}
	got.check(t, "POST", "/api/v1/register")
	want := url.Values{"event_types": {`["realm_user"]`}, "fetch_event_types": {`["realm"]`}}
	if !reflect.DeepEqual(got.form, want) || got.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("sent %s %v, want %v", got.contentType, got.form, want)
	}
}

func TestRegisterLongPollTimeout(t *testing.T) {
	for _, c := range []struct {
		field string
		want  time.Duration
	}{
		{``, DefaultLongPollTimeout},
		{`,"event_queue_longpoll_timeout_seconds":0`, DefaultLongPollTimeout},
		{`,"event_queue_longpoll_timeout_seconds":20`, 20 * time.Second},
		{`,"event_queue_longpoll_timeout_seconds":999999999999`, MaxLongPollTimeout},
	} {
		cl, _ := recordingClient(t, 200, `{"result":"success","msg":"","queue_id":"q","last_event_id":-1`+c.field+`}`)
		q, err := cl.Register(context.Background())
		if err != nil || q.LongPollTimeout != c.want {
			t.Errorf("%q: %v %v, want %v", c.field, q.LongPollTimeout, err, c.want)
		}
	}
}

func TestRegisterWithoutAQueueIsMalformed(t *testing.T) {
	for _, body := range []string{
		`{"result":"success","msg":"","last_event_id":-1}`,
		`{"result":"success","msg":"","queue_id":null,"last_event_id":-1}`,
		`{"result":"success","msg":"","queue_id":"","last_event_id":-1}`,
		`{"result":"success","msg":"","queue_id":"q"}`,
	} {
		c, _ := recordingClient(t, 200, body)
		_, err := c.Register(context.Background())
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestEventsReadsEveryKind(t *testing.T) {
	var query url.Values
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		if r.Method != "GET" || r.URL.Path != "/api/v1/events" {
			t.Errorf("sent %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":"success","msg":"","events":[
			{"id":5,"type":"heartbeat"},
			{"id":6,"type":"realm_user","op":"update","person":{"user_id":12,"delivery_email":"ann.new@example.org"}},
			{"id":7,"type":"realm_user","op":"update","person":{"user_id":12,"delivery_email":null}},
			{"id":8,"type":"realm_user","op":"update","person":{"user_id":12,"new_email":"user12@zulip.example.com"}},
			{"id":9,"type":"realm_user","op":"update","person":{"user_id":13,"is_active":false}},
			{"id":10,"type":"realm_user","op":"update","person":{"user_id":12,"avatar_source":"G","avatar_url":"https://x","avatar_url_medium":"https://y","avatar_version":2}},
			{"id":11,"type":"realm_user","op":"add","person":{"user_id":14,"email":"bo@example.org","delivery_email":null,"full_name":"Bo","is_active":true,"role":400}},
			{"id":12,"type":"realm_user","op":"remove","person":{"user_id":15,"full_name":"Cy"}},
			{"id":13,"type":"message","message":{}},
			{"id":14,"type":"realm_user","op":"update","person":{"user_id":12,"delivery_email":42}},
			{"id":15,"type":"realm_user","op":"update","person":{"is_active":true}},
			{"id":16,"type":"realm_user","op":"update","person":"garbage"}
		]}`)
	})
	events, err := c.Events(context.Background(), Queue{ID: "q-1", LastEventID: 4, LongPollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if want := (url.Values{"queue_id": {"q-1"}, "last_event_id": {"4"}}); !reflect.DeepEqual(query, want) {
		t.Errorf("query %v, want %v", query, want)
	}
	for i := 9; i < 12; i++ {
		if events[i].Kind != EventUnreadable || !errors.Is(events[i].Err, ErrMalformedResponse) {
			t.Errorf("event %d: %+v, want unreadable", events[i].ID, events[i])
		}
		events[i].Err = nil
	}
	want := []Event{
		{ID: 5, Kind: EventHeartbeat},
		{ID: 6, Kind: EventUserUpdate, UserID: 12, DeliveryEmail: ptr("ann.new@example.org")},
		{ID: 7, Kind: EventUserUpdate, UserID: 12, DeliveryEmail: ptr("")},
		{ID: 8, Kind: EventUserUpdate, UserID: 12, Email: ptr("user12@zulip.example.com")},
		{ID: 9, Kind: EventUserUpdate, UserID: 13, IsActive: ptr(false)},
		{ID: 10, Kind: EventOther},
		{ID: 11, Kind: EventUserAdded, UserID: 14, User: &User{ID: 14, Email: "bo@example.org", FullName: "Bo", IsActive: true, Role: 400}},
		{ID: 12, Kind: EventUserRemoved, UserID: 15},
		{ID: 13, Kind: EventOther},
		{ID: 14, Kind: EventUnreadable},
		{ID: 15, Kind: EventUnreadable},
		{ID: 16, Kind: EventUnreadable},
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events:\n got %+v\nwant %+v", events, want)
	}
}

func TestEventsAnswerThatCannotBeAcknowledgedIsMalformed(t *testing.T) {
	for _, body := range []string{
		`{"result":"success","msg":""}`,
		`{"result":"success","msg":"","events":[{"id":1,"type":"heartbeat"},{"type":"heartbeat"}]}`,
		`{"result":"success","msg":"","events":[{"id":"1","type":"heartbeat"}]}`,
	} {
		c, _ := recordingClient(t, 200, body)
		_, err := c.Events(context.Background(), Queue{ID: "q", LongPollTimeout: time.Second})
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: %v", body, err)
		}
	}
	c, _ := recordingClient(t, 200, `{"result":"success","msg":"","events":[]}`)
	if _, err := c.Events(context.Background(), Queue{}); err == nil {
		t.Errorf("polled a queue without ID")
	}
}

func TestBadEventQueueIDHasItsReason(t *testing.T) {
	c, _ := recordingClient(t, 400, `{"result":"error","msg":"Bad event queue ID: q-1","code":"BAD_EVENT_QUEUE_ID","queue_id":"q-1"}`)
	_, err := c.Events(context.Background(), Queue{ID: "q-1", LongPollTimeout: time.Second})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Reason != ReasonBadEventQueue || ae.Code != "BAD_EVENT_QUEUE_ID" || ae.Status != 400 || IsTransient(err) {
		t.Fatalf("err = %#v", err)
	}
	if ReasonOf(err) != ReasonBadEventQueue || ReasonBadEventQueue.String() != "bad event queue id" {
		t.Errorf("ReasonOf = %v", ReasonOf(err))
	}
	// The same code on another status, or another 400, is not it.
	for _, c := range []struct {
		status int
		body   string
	}{
		{400, `{"result":"error","msg":"Event 3 was not in this queue","code":"BAD_REQUEST"}`},
		{401, `{"result":"error","msg":"Bad event queue ID: q-1","code":"BAD_EVENT_QUEUE_ID"}`},
	} {
		cl, _ := recordingClient(t, c.status, c.body)
		_, err := cl.Events(context.Background(), Queue{ID: "q-1", LongPollTimeout: time.Second})
		if ReasonOf(err) == ReasonBadEventQueue {
			t.Errorf("%d %s: %v", c.status, c.body, err)
		}
	}
}

func TestQueueAdvanceAcknowledgesEveryEvent(t *testing.T) {
	q := Queue{ID: "q", LastEventID: 2, LongPollTimeout: time.Second}
	if got := q.Advance([]Event{{ID: 3, Kind: EventHeartbeat}, {ID: 5}, {ID: 4, Kind: EventUserUpdate}}); got != (Queue{ID: "q", LastEventID: 5, LongPollTimeout: time.Second}) {
		t.Errorf("Advance = %+v", got)
	}
	if got := q.Advance(nil); got != q {
		t.Errorf("Advance(nil) = %+v", got)
	}
}

func TestEventsTimeoutIsALittleLongerThanZulips(t *testing.T) {
	if got := (Queue{LongPollTimeout: 2 * time.Second}).EventsTimeout(); got != 2500*time.Millisecond {
		t.Errorf("EventsTimeout = %v", got)
	}
	if got := (Queue{}).EventsTimeout(); got != DefaultLongPollTimeout*5/4 {
		t.Errorf("EventsTimeout without a long-poll timeout = %v", got)
	}
}

// TestEventsOutlivesTheRequestTimeout: a poll held longer than
// Config.Timeout is not cut short by it.
func TestEventsOutlivesTheRequestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":"success","msg":"","events":[{"id":0,"type":"heartbeat"}]}`)
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: "bot@x.org", APIKey: testKey, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	events, err := c.Events(context.Background(), Queue{ID: "q", LastEventID: -1, LongPollTimeout: 2 * time.Second})
	if err != nil || len(events) != 1 || events[0].Kind != EventHeartbeat {
		t.Fatalf("events %+v, err %v", events, err)
	}
}

func TestEventsEndsAtItsOwnDeadline(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	start := time.Now()
	_, err := c.Events(context.Background(), Queue{ID: "q", LongPollTimeout: 200 * time.Millisecond})
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took < 250*time.Millisecond || took > time.Second {
		t.Errorf("gave up after %v, want 250ms", took)
	}
}

// TestALongPollNeverHoldsOtherRequests: with the budget unknown, a
// request goes alone to learn it; a long poll must not be that request.
func TestALongPollNeverHoldsOtherRequests(t *testing.T) {
	polling := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		h := rateHeaders(100, time.Now().Add(time.Minute))
		for k, v := range h {
			w.Header()[k] = v
		}
		if r.URL.Path == "/api/v1/events" {
			once.Do(func() { close(polling) })
			select {
			case <-release:
			case <-r.Context().Done():
			}
			_, _ = io.WriteString(w, `{"result":"success","msg":"","events":[{"id":0,"type":"heartbeat"}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"result":"success","msg":"","user_id":8,"email":"bot@zulip.example.com"}`)
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.Events(context.Background(), Queue{ID: "q", LongPollTimeout: 10 * time.Second})
		done <- err
	}()
	<-polling
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.Me(ctx); err != nil {
		t.Errorf("a request during a long poll: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the poll: %v", err)
	}
}

func TestLongPollPacing(t *testing.T) {
	p, clk, told := pacerWithClock()
	// The budget is known: a long poll takes one request of it.
	learn, err := p.wait(context.Background(), "GET /x")
	if err != nil {
		t.Fatal(err)
	}
	learn(200, rateHeaders(5, clk.now().Add(time.Minute)), 0)
	done, err := p.waitLongPoll(context.Background(), "GET /events")
	if err != nil {
		t.Fatal(err)
	}
	if p.remaining != 4 || p.inflight != 1 {
		t.Errorf("remaining %d, inflight %d", p.remaining, p.inflight)
	}
	// Its answer's headers, a minute old, change nothing.
	done(200, rateHeaders(0, clk.now().Add(time.Hour)), 0)
	if p.remaining != 4 || p.inflight != 0 || len(*told) != 0 {
		t.Errorf("after the answer: remaining %d, inflight %d, told %v", p.remaining, p.inflight, *told)
	}
	// A 429 does: Zulip refuses at once.
	done, _ = p.waitLongPoll(context.Background(), "GET /events")
	done(http.StatusTooManyRequests, nil, 30*time.Second)
	if p.remaining != 0 || !p.reset.Equal(clk.now().Add(30*time.Second)) || len(*told) != 1 {
		t.Errorf("after a 429: remaining %d, reset in %v, told %v", p.remaining, p.reset.Sub(clk.now()), *told)
	}
	// An empty budget back only after MaxPaceWait: refused at once.
	if _, err := p.waitLongPoll(context.Background(), "GET /events"); err == nil {
		t.Errorf("a long poll went with the budget empty for 30 s")
	} else if rl := (*RateLimitError)(nil); !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Errorf("err = %v", err)
	}
	// Due back: it goes without scouting, so a scout may still go.
	clk.advance(30 * time.Second)
	if _, err := p.waitLongPoll(context.Background(), "GET /events"); err != nil {
		t.Fatal(err)
	}
	if p.scouting {
		t.Errorf("the long poll went as the scout")
	}
}

// TestEventsReadsALargeAnswer: every unacknowledged event comes back at
// once; a long answer is read whole, not cut at the usual bound.
func TestEventsReadsALargeAnswer(t *testing.T) {
	const n = 20000
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":"success","msg":"","events":[`)
		for i := range n {
			if i > 0 {
				_, _ = io.WriteString(w, ",")
			}
			_, _ = fmt.Fprintf(w, `{"id":%d,"type":"realm_user","op":"update","person":{"user_id":%d,"delivery_email":"user.%d@example.org"}}`, i, i+1, i)
		}
		_, _ = io.WriteString(w, `]}`)
	})
	events, err := c.Events(context.Background(), Queue{ID: "q", LastEventID: -1, LongPollTimeout: 5 * time.Second})
	if err != nil || len(events) != n {
		t.Fatalf("%d events, err %v", len(events), err)
	}
	if last := events[n-1]; last.ID != n-1 || *last.DeliveryEmail != fmt.Sprintf("user.%d@example.org", n-1) {
		t.Errorf("last event %+v", last)
	}
}
