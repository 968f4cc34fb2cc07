package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Review 4: an answer of GET /events that keeps coming back as a 4xx (or
// cannot be read) is taken for a lost queue, and a lost queue is handled
// with no wait at all: register again, run a full scan, poll, again and
// again. The retry wait (1 s doubling to 5 min) only applies to other
// errors. In 3 seconds the follower should register a handful of queues at
// most; it registers one per loop, each a new queue left on Zulip's
// server, each followed by a full scan, spending the bot's rate limit
// (which users' email changes share).
func TestEventsReviewEventFollowerSpinsOnAPersistentEventsError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault zuliptest.Fault
	}{
		{"400 from GET /events", zuliptest.Fault{Method: http.MethodGet, Path: "/api/v1/events", Kind: zuliptest.FaultStatus, Status: 400}},
		{"unreadable GET /events", zuliptest.Fault{Method: http.MethodGet, Path: "/api/v1/events", Kind: zuliptest.FaultMalformed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newDriftBed(t, false)
			b.zulip.AddFault(tc.fault)
			b.zulip.ResetRequests()
			f := &eventFollower{p: b.p, done: make(chan struct{})}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			f.run(ctx)
			registers, scans := 0, 0
			for _, r := range b.zulip.Requests() {
				switch {
				case r.Method == http.MethodPost && r.Path == "/api/v1/register":
					registers++
				case r.Method == http.MethodGet && r.Path == "/api/v1/users":
					scans++
				}
			}
			if registers > 4 {
				t.Errorf("in 3 s: %d queues registered and %d full scans (GET /users), %d Zulip requests in all: no backoff after a 'lost' queue", registers, scans, len(b.zulip.Requests()))
			}
		})
	}
}

// Issue 16's bench: a burst of changes in Zulip (a domain migration, a
// directory's bulk update) wakes the long poll once per change unless the
// follower waits a little after a poll that brought events: in 2 s of a
// change every 50 ms, it polls once or twice, not forty times.
func TestEventsBurstCostsFewPolls(t *testing.T) {
	b := newDriftBed(t, false)
	zu := b.zulip.AddUser(zuliptest.User{Email: "burst@example.org", FullName: "burst"})
	f := &eventFollower{p: b.p, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			b.zulip.ChangeEmailInSettings(zu.ID, "burst"+strconv.Itoa(i)+"@example.org")
			time.Sleep(50 * time.Millisecond)
		}
	}()
	b.zulip.ResetRequests()
	f.run(ctx)
	polls := 0
	for _, r := range b.zulip.Requests() {
		if r.Method == http.MethodGet && r.Path == "/api/v1/events" {
			polls++
		}
	}
	if polls == 0 || polls > 3 {
		t.Errorf("%d polls in 2 s of a change every 50 ms, want 1 to 3", polls)
	}
}
