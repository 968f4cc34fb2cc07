package zulip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

const (
	// DefaultLongPollTimeout is how long Zulip may hold GET /events when
	// POST /register does not say (event_queue_longpoll_timeout_seconds,
	// feature level 74+): the 90 s Zulip documents for older servers.
	DefaultLongPollTimeout = 90 * time.Second
	// MaxLongPollTimeout caps what a server says, so that a wrong value
	// cannot hold a poll for hours.
	MaxLongPollTimeout = 10 * time.Minute
	// maxEventsBytes bounds the answers of POST /register and GET /events:
	// every event not yet acknowledged comes back in one answer, many after
	// a bulk change, and one cut short would fail again at every poll.
	maxEventsBytes = 32 << 20
)

// Queue is one of the bot's event queues (POST /register), as the node
// that polls keeps it.
type Queue struct {
	ID string `json:"id"`
	// LastEventID is the highest event ID acknowledged: Events sends it,
	// Advance moves it. Zulip drops the acknowledged events.
	LastEventID int `json:"last_event_id"`
	// LongPollTimeout is the longest Zulip holds GET /events before it
	// answers (with a heartbeat when nothing happened): its
	// event_queue_longpoll_timeout_seconds, DefaultLongPollTimeout when it
	// does not say, at most MaxLongPollTimeout.
	LongPollTimeout time.Duration `json:"long_poll_timeout"`
}

// EventsTimeout is the deadline of one GET /events: the queue's
// LongPollTimeout and a quarter more for the answer to arrive. Config's
// Timeout, a few seconds, does not apply: an idle poll lasts a minute.
func (q Queue) EventsTimeout() time.Duration {
	d := q.LongPollTimeout
	if d <= 0 {
		d = DefaultLongPollTimeout
	}
	return d + d/4
}

// Advance returns q with every event in events acknowledged, heartbeats
// and events the caller ignores included, for the next Events.
func (q Queue) Advance(events []Event) Queue {
	for _, ev := range events {
		q.LastEventID = max(q.LastEventID, ev.ID)
	}
	return q
}

// EventKind is what an Event says.
type EventKind int

// The kinds of events.
const (
	// EventOther is any other event: acknowledge it and go on.
	EventOther EventKind = iota
	// EventHeartbeat is Zulip's answer to a poll that waited long enough
	// with nothing to tell.
	EventHeartbeat
	// EventUserUpdate is a realm_user update carrying DeliveryEmail, Email
	// or IsActive (other updates, like a new avatar or name, are
	// EventOther). From feature level 222 a deactivation or reactivation
	// is one of these, with IsActive.
	EventUserUpdate
	// EventUserAdded is a realm_user add: a new user (User), or below
	// feature level 222 a reactivated one.
	EventUserAdded
	// EventUserRemoved is a realm_user remove: below feature level 222 a
	// deactivation; from 228 a guest losing sight of the user (never sent
	// to an administrator bot).
	EventUserRemoved
	// EventUnreadable is a realm_user event whose person the client could
	// not read (Err says why): acknowledge it, and read the users again
	// for what it may have said.
	EventUnreadable
)

func (k EventKind) String() string {
	switch k {
	case EventHeartbeat:
		return "heartbeat"
	case EventUserUpdate:
		return "user update"
	case EventUserAdded:
		return "user added"
	case EventUserRemoved:
		return "user removed"
	case EventUnreadable:
		return "unreadable"
	default:
		return "other"
	}
}

// Event is one event of the bot's queue.
type Event struct {
	ID     int
	Kind   EventKind
	UserID int // the user concerned, for the realm_user kinds
	// DeliveryEmail, when set, is the user's real address as the bot now
	// sees it: the new address when it changed, or "" when the bot may no
	// longer see it (the user's email visibility changed). Zulip sends it
	// only to those who may see the address.
	DeliveryEmail *string
	// Email, when set, is the user's new API address (Zulip's new_email):
	// the real address when everyone may see it, else user{ID}@{host}.
	Email *string
	// IsActive, when set, says the user was deactivated (false) or
	// reactivated (true).
	IsActive *bool
	// User is the new user of EventUserAdded.
	User *User
	// Err is why an EventUnreadable could not be read.
	Err error
}

// Register creates an event queue for realm_user events (POST /register),
// fetching of the initial state only the realm settings' long-poll timeout:
// not the member list (the users are read with Users), which is large.
func (c *Client) Register(ctx context.Context) (Queue, error) {
	form := url.Values{
		"event_types":       {`["realm_user"]`},
		"fetch_event_types": {`["realm"]`},
	}
	req, err := c.newRequest(ctx, "POST", "register", form, true)
	if err != nil {
		return Queue{}, err
	}
	var out struct {
		QueueID     *string `json:"queue_id"`
		LastEventID *int    `json:"last_event_id"`
		LongPoll    *int    `json:"event_queue_longpoll_timeout_seconds"`
	}
	if err := c.doLimit(req, &out, maxEventsBytes); err != nil {
		return Queue{}, err
	}
	if out.QueueID == nil || *out.QueueID == "" || out.LastEventID == nil {
		return Queue{}, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: no queue_id or last_event_id in the answer", ErrMalformedResponse)}
	}
	q := Queue{ID: *out.QueueID, LastEventID: *out.LastEventID, LongPollTimeout: DefaultLongPollTimeout}
	if out.LongPoll != nil && *out.LongPoll > 0 {
		q.LongPollTimeout = min(time.Duration(*out.LongPoll)*time.Second, MaxLongPollTimeout)
	}
	return q, nil
}

// Events long-polls the queue (GET /events) for the events after
// q.LastEventID: Zulip answers as soon as there are some, or with a
// heartbeat after a while; the poll ends at q.EventsTimeout() at the
// latest, or when ctx ends (an *UnavailableError wrapping ctx's error).
// Acknowledge what it returns with q.Advance before the next call.
//
// An *APIError with ReasonBadEventQueue means the queue is gone: Register
// a new one and read the users again, since events were missed. Any other
// *APIError (e.g. a LastEventID the queue does not know) calls for the
// same, and so does an *UnavailableError wrapping ErrMalformedResponse
// (an answer whose events cannot be acknowledged would come again);
// other *UnavailableError and *RateLimitError call for trying again later.
// An event the client cannot read is returned as EventUnreadable, so that
// it can be acknowledged.
func (c *Client) Events(ctx context.Context, q Queue) ([]Event, error) {
	if q.ID == "" {
		return nil, errors.New("zulip: polling events: no queue ID")
	}
	query := url.Values{"queue_id": {q.ID}, "last_event_id": {strconv.Itoa(q.LastEventID)}}
	req, err := c.newRequest(ctx, "GET", "events?"+query.Encode(), nil, true)
	if err != nil {
		return nil, err
	}
	var out struct {
		Events *[]rawEvent `json:"events"`
	}
	if err := c.doCall(req, &out, callOpts{limit: maxEventsBytes, timeout: q.EventsTimeout(), longPoll: true}); err != nil {
		return nil, err
	}
	if out.Events == nil {
		return nil, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: no events in the answer", ErrMalformedResponse)}
	}
	events := make([]Event, 0, len(*out.Events))
	for _, raw := range *out.Events {
		if raw.ID == nil {
			return nil, &UnavailableError{Op: opOf(req), Status: 200, Err: fmt.Errorf("%w: an event of type %q without id", ErrMalformedResponse, raw.Type)}
		}
		ev := raw.event()
		if ev.Err != nil {
			ev = Event{ID: *raw.ID, Kind: EventUnreadable, Err: fmt.Errorf("%w: %w", ErrMalformedResponse, ev.Err)}
		}
		events = append(events, ev)
	}
	return events, nil
}

// DeleteQueue deletes the queue (DELETE /events), when nobody will poll it
// again; Zulip would drop it 10 minutes after the last poll anyway. An
// *APIError with ReasonBadEventQueue means it was gone already.
func (c *Client) DeleteQueue(ctx context.Context, q Queue) error {
	req, err := c.newRequest(ctx, "DELETE", "events", url.Values{"queue_id": {q.ID}}, true)
	if err != nil {
		return err
	}
	return c.do(req, nil)
}

// rawEvent is an event as Zulip sends it.
type rawEvent struct {
	ID     *int            `json:"id"`
	Type   string          `json:"type"`
	Op     string          `json:"op"`
	Person json.RawMessage `json:"person"`
}

// event reads the parts of a raw event (with an id) the plugin uses; Err
// says what could not be read.
func (r rawEvent) event() Event {
	ev := Event{ID: *r.ID}
	switch {
	case r.Type == "heartbeat":
		ev.Kind = EventHeartbeat
		return ev
	case r.Type != "realm_user":
		return ev
	}
	fail := func(err error) Event {
		return Event{Err: fmt.Errorf("realm_user %s %d: %w", r.Op, ev.ID, err)}
	}
	switch r.Op {
	case "update":
		var p struct {
			UserID        int             `json:"user_id"`
			DeliveryEmail json.RawMessage `json:"delivery_email"`
			NewEmail      *string         `json:"new_email"`
			IsActive      *bool           `json:"is_active"`
		}
		if err := json.Unmarshal(r.Person, &p); err != nil {
			return fail(err)
		}
		if p.DeliveryEmail != nil {
			addr := ""
			if !bytes.Equal(p.DeliveryEmail, []byte("null")) {
				if err := json.Unmarshal(p.DeliveryEmail, &addr); err != nil {
					return fail(fmt.Errorf("delivery_email: %w", err))
				}
			}
			ev.DeliveryEmail = &addr
		}
		ev.Email, ev.IsActive = p.NewEmail, p.IsActive
		if ev.DeliveryEmail == nil && ev.Email == nil && ev.IsActive == nil {
			return ev
		}
		ev.Kind, ev.UserID = EventUserUpdate, p.UserID
	case "add":
		var u User
		if err := json.Unmarshal(r.Person, &u); err != nil {
			return fail(err)
		}
		ev.Kind, ev.UserID, ev.User = EventUserAdded, u.ID, &u
	case "remove":
		var p struct {
			UserID int `json:"user_id"`
		}
		if err := json.Unmarshal(r.Person, &p); err != nil {
			return fail(err)
		}
		ev.Kind, ev.UserID = EventUserRemoved, p.UserID
	default:
		return ev
	}
	if ev.UserID <= 0 {
		return fail(errors.New("no user_id"))
	}
	return ev
}
