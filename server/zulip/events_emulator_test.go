package zulip_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

func ptr[T any](v T) *T { return &v }

// mustEvents polls once and fails t on an error.
func mustEvents(t *testing.T, c *zulip.Client, q zulip.Queue) []zulip.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events, err := c.Events(ctx, q)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return events
}

func sameEvents(t *testing.T, what string, got, want []zulip.Event) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, describe(got), describe(want))
	}
}

func describe(events []zulip.Event) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "{%d %s user %d", e.ID, e.Kind, e.UserID)
		if e.DeliveryEmail != nil {
			fmt.Fprintf(&b, " delivery_email %q", *e.DeliveryEmail)
		}
		if e.Email != nil {
			fmt.Fprintf(&b, " email %q", *e.Email)
		}
		if e.IsActive != nil {
			fmt.Fprintf(&b, " is_active %v", *e.IsActive)
		}
		b.WriteString("} ")
	}
	return b.String()
}

// TestEventsAgainstTheEmulator: every change made in Zulip, by the bot or
// elsewhere, reaches the bot's queue, checked against Zulip's spec.
func TestEventsAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	zs, c := newEmulated(t, zuliptest.WithEventHeartbeat(200*time.Millisecond))
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann"})
	q, err := c.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.ID == "" || q.LastEventID != -1 || q.LongPollTimeout != time.Second {
		t.Fatalf("queue %+v", q)
	}

	// The bot's own change.
	if err := c.ChangeEmailByID(ctx, ann.ID, "ann.new@example.org"); err != nil {
		t.Fatal(err)
	}
	events := mustEvents(t, c, q)
	sameEvents(t, "the bot's change", events, []zulip.Event{
		{ID: 0, Kind: zulip.EventUserUpdate, UserID: ann.ID, DeliveryEmail: ptr("ann.new@example.org")},
		{ID: 1, Kind: zulip.EventOther}, // the avatar follows the address
		{ID: 2, Kind: zulip.EventUserUpdate, UserID: ann.ID, Email: ptr("ann.new@example.org")},
	})
	q = q.Advance(events)

	// The user's own change, in Zulip's settings, while the bot waits.
	done := make(chan []zulip.Event, 1)
	go func() {
		events, err := c.Events(ctx, q)
		if err != nil {
			t.Errorf("events: %v", err)
		}
		done <- events
	}()
	time.Sleep(50 * time.Millisecond)
	zs.ChangeEmailInSettings(ann.ID, "ann.self@example.org")
	events = <-done
	if len(events) > 0 && events[0].Kind == zulip.EventHeartbeat {
		// The heartbeat won the race: the change comes next.
		q = q.Advance(events)
		events = mustEvents(t, c, q)
	}
	if len(events) != 3 || *events[0].DeliveryEmail != "ann.self@example.org" || events[0].UserID != ann.ID {
		t.Fatalf("the user's change: %s", describe(events))
	}
	q = q.Advance(events)

	// Deactivation and reactivation.
	zs.SetDeactivated(ann.ID, true)
	zs.SetDeactivated(ann.ID, false)
	events = mustEvents(t, c, q)
	first := q.LastEventID + 1
	sameEvents(t, "deactivation", events, []zulip.Event{
		{ID: first, Kind: zulip.EventUserUpdate, UserID: ann.ID, IsActive: ptr(false)},
		{ID: first + 1, Kind: zulip.EventUserUpdate, UserID: ann.ID, IsActive: ptr(true)},
	})
	q = q.Advance(events)

	// Nothing more: a heartbeat, acknowledged like any event.
	events = mustEvents(t, c, q)
	sameEvents(t, "heartbeat", events, []zulip.Event{{ID: q.LastEventID + 1, Kind: zulip.EventHeartbeat}})
	q = q.Advance(events)
	zs.SetDeactivated(ann.ID, true)
	if events := mustEvents(t, c, q); len(events) != 1 || events[0].ID != q.LastEventID+1 || *events[0].IsActive {
		t.Errorf("after the heartbeat: %s", describe(events))
	}

	// Both systems' end state: the user as Zulip has it, and no API key in
	// the emulator's records.
	if u, _ := zs.User(ann.ID); u.Email != "ann.self@example.org" || !u.Deactivated {
		t.Errorf("user %+v", u)
	}
	for _, r := range zs.Requests() {
		if r.AuthEmail != botEmail || strings.Contains(fmt.Sprintf("%#v", r), botKey) {
			t.Errorf("request %s %s recorded as %q (or with the key)", r.Method, r.Path, r.AuthEmail)
		}
	}
}

// TestEventsHideAddressesTheBotMayNotSee: a bot whose role may not see a
// user's real address gets no delivery_email for that user.
func TestEventsHideAddressesTheBotMayNotSee(t *testing.T) {
	ctx := context.Background()
	zs, owner := newEmulated(t)
	const memberKey = "Member0123456789abcdefABCDEF0123"
	zs.AddBot("member-bot@zulip.example.com", memberKey, zuliptest.RoleMember, false)
	member, err := zulip.NewClient(zulip.Config{SiteURL: zs.URL, BotEmail: "member-bot@zulip.example.com", APIKey: memberKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	adminsOnly := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann", EmailVisibility: zuliptest.VisibilityAdmins})
	hidden := zs.AddUser(zuliptest.User{Email: "bob@example.org", FullName: "Bob", EmailVisibility: zuliptest.VisibilityNobody})
	qOwner, err := owner.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	qMember, err := member.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zs.ChangeEmailInSettings(adminsOnly.ID, "ann.new@example.org")
	zs.ChangeEmailInSettings(hidden.ID, "bob.new@example.org")

	sameEvents(t, "the owner bot", mustEvents(t, owner, qOwner), []zulip.Event{
		{ID: 0, Kind: zulip.EventUserUpdate, UserID: adminsOnly.ID, DeliveryEmail: ptr("ann.new@example.org")},
		{ID: 1, Kind: zulip.EventOther},
		{ID: 2, Kind: zulip.EventOther},
	})
	sameEvents(t, "the member bot", mustEvents(t, member, qMember), []zulip.Event{
		{ID: 0, Kind: zulip.EventOther},
		{ID: 1, Kind: zulip.EventOther},
	})
}

func TestEventsAfterTheQueueExpiredIsBadEventQueue(t *testing.T) {
	ctx := context.Background()
	zs, c := newEmulated(t, zuliptest.WithEventQueueTimeout(10*time.Millisecond))
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann"})
	q, err := c.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	_, err = c.Events(ctx, q)
	var ae *zulip.APIError
	if !errors.As(err, &ae) || ae.Reason != zulip.ReasonBadEventQueue || ae.Code != "BAD_EVENT_QUEUE_ID" || zulip.IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), botKey) {
		t.Errorf("the error shows the API key")
	}
	// A new queue works.
	q, err = c.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zs.SetDeactivated(ann.ID, true)
	sameEvents(t, "new queue", mustEvents(t, c, q), []zulip.Event{{ID: 0, Kind: zulip.EventUserUpdate, UserID: ann.ID, IsActive: ptr(false)}})
}

func TestEventsEndsWhenTheContextEnds(t *testing.T) {
	zs, c := newEmulated(t) // Zulip's heartbeat: 45 s
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann"})
	q, err := c.Register(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Events(ctx, q)
	var ue *zulip.UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the poll ended %v after it began", took)
	}
	// The queue is intact: the next poll gets what happened meanwhile.
	zs.SetDeactivated(ann.ID, true)
	sameEvents(t, "after", mustEvents(t, c, q), []zulip.Event{{ID: 0, Kind: zulip.EventUserUpdate, UserID: ann.ID, IsActive: ptr(false)}})
}

func TestDeleteQueueAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	zs, c := newEmulated(t)
	q, err := c.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteQueue(ctx, q); err != nil {
		t.Fatal(err)
	}
	if n := zs.EventQueueCount(); n != 0 {
		t.Errorf("%d queues left", n)
	}
	if err := c.DeleteQueue(ctx, q); zulip.ReasonOf(err) != zulip.ReasonBadEventQueue {
		t.Errorf("deleting again: %v", err)
	}
}
