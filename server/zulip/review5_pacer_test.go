package zulip

import (
	"net/http"
	"testing"
	"time"
)

// Item 1: a request that got no answer is to be taken off later counts "for
// as long as any rate-limit answer is believed" (MaxRateLimitWait). But the
// pacer keeps one counter with one expiry, and every new lost request moves
// that expiry on: on a Zulip that times out now and then (one request every
// four minutes here, each long counted and forgotten by Zulip), the counter
// never empties and grows with every timeout. Once it reaches the budget,
// every answer computes 0 left: the pacer never raises its count again,
// tells the other nodes the budget is exhausted at every reset, and a
// migration (and every user's change) waits for Zulip although Zulip says
// the bot has its whole budget.
func TestReview5LostRequestsEachExpireOnTheirOwn(t *testing.T) {
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clock := start
	p := fixedPacer(start, 30, start.Add(time.Minute))
	p.now = func() time.Time { return clock }
	const rounds = 35
	for range rounds {
		mustStart(t, p)(0, nil, 0) // timed out: Zulip may count it within its window
		// The next request goes alone; Zulip says 30 of 30 are left.
		mustStart(t, p)(http.StatusOK, rateHeaders(30, clock.Add(time.Minute)), 0)
		clock = clock.Add(4 * time.Minute)
	}
	// Only the last lost request (four minutes ago) is younger than
	// MaxRateLimitWait; one more is allowed for.
	mustStart(t, p)(http.StatusOK, rateHeaders(30, clock.Add(time.Minute)), 0)
	if r, known := p.Budget(); !known || r < 28 {
		t.Fatalf("budget %d (known %v) after Zulip said 30 left: requests lost up to %s ago are still taken off (%d of them)",
			r, known, clock.Sub(start), len(p.lost))
	}
}
