package zulip

import (
	"net/http"
	"testing"
	"time"
)

// Another node reports the budget used up (Observe) while a request of
// this node is in flight. That request's answer says what Zulip counted
// when it arrived, which may be before the other node's burst: it is not
// "alone" with respect to what the pacer learnt meanwhile, and must not
// raise the count above what the cluster reported. Before the change a
// non-scout answer could only lower it.
func TestReview4ObservedExhaustionNotUndoneByAnOlderAnswer(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 50, now.Add(time.Minute))
	a := mustStart(t, p) // sent while the budget looked plentiful
	// Another node used the rest of the budget and tells this one.
	p.Observe(RateState{Remaining: 0, Reset: now.Add(40 * time.Second)})
	if r, known := p.Budget(); !known || r != 0 {
		t.Fatalf("after Observe: %d %v, want 0 true", r, known)
	}
	// a's answer: Zulip counted a before the other node's burst.
	a(http.StatusOK, rateHeaders(48, now.Add(30*time.Second)), 0)
	if r, known := p.Budget(); known && r > 0 {
		t.Fatalf("an answer older than the cluster's report raised the budget to %d: the node sends %d requests into an exhausted budget (429s)", r, r)
	}
}

// A request that got no answer (timeout, connection reset after sending)
// may still be counted by Zulip later (queued behind a slow Zulip). The
// answer of a request sent after it is then not "alone": Zulip may have
// counted it before the failed one, so its X-RateLimit-Remaining is one too
// high. Before the change the pacer kept the failed request taken off.
func TestReview4AnswerAfterAFailedRequestDoesNotForgetIt(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 10, now.Add(time.Minute))
	x := mustStart(t, p) // 9 left
	x(0, nil, 0)         // the client gave up; Zulip has not counted it yet
	a := mustStart(t, p) // 8 left
	// Zulip counts a (9 left), then the queued x (8 left).
	a(http.StatusOK, rateHeaders(9, now.Add(50*time.Second)), 0)
	if r, _ := p.Budget(); r > 8 {
		t.Fatalf("budget %d after a request whose answer was lost, want at most 8 (Zulip may still count it)", r)
	}
}

// A scout is sent alone only if nothing else is in flight. A request sent
// before the scout and counted by Zulip after it, but answered first, is
// no longer in flight when the scout's answer comes: the scout's count is
// then one too high. (Pre-existing: the change kept "scout ||" in the
// sent-alone test, though its own answers counter would tell.)
func TestReview4ScoutAnsweredAfterAnotherDoesNotRaise(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	clock := now
	p := fixedPacer(now, 1, now.Add(time.Second))
	p.now = func() time.Time { return clock }
	x := mustStart(t, p) // the last request of the budget
	clock = now.Add(2 * time.Second)
	s := mustStart(t, p) // the reset passed: the scout goes while x is in flight
	if !p.scouting {
		t.Fatal("the second request did not go as the scout")
	}
	// Zulip counts s first (5 left), then x (4 left); x's answer comes first.
	x(http.StatusOK, rateHeaders(4, clock.Add(50*time.Second)), 0)
	s(http.StatusOK, rateHeaders(5, clock.Add(50*time.Second)), 0)
	if r, _ := p.Budget(); r > 4 {
		t.Fatalf("budget %d, Zulip has 4 left", r)
	}
}
