package zulip

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// fixedPacer is a pacer whose clock stands at now and whose budget is
// known: remaining left until reset.
func fixedPacer(now time.Time, remaining int, reset time.Time) *Pacer {
	p := NewPacer()
	p.now = func() time.Time { return now }
	p.known, p.remaining, p.reset = true, remaining, reset
	return p
}

func mustStart(t *testing.T, p *Pacer) func(int, http.Header, time.Duration) {
	t.Helper()
	done, err := p.wait(context.Background(), "GET /x")
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// Zulip's window slides: slots free up one by one, and its answers say so.
// A request sent while no other was answered (one after another, as a
// migration sends them) tells the budget as it is, higher too; before,
// only a scout sent when the budget was used up could raise it, and the
// pacer went on believing a count lower than Zulip's.
func TestPacerAnswerOfARequestSentAloneRaisesTheCount(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 3, now.Add(time.Minute))
	done := mustStart(t, p)
	done(http.StatusOK, rateHeaders(40, now.Add(50*time.Second)), 0)
	if r, known := p.Budget(); !known || r != 40 {
		t.Fatalf("after a request sent alone: %d %v, want 40 true", r, known)
	}
	// Still taken off: the requests in flight when the answer comes.
	a := mustStart(t, p)
	b := mustStart(t, p)
	_ = b
	a(http.StatusOK, rateHeaders(45, now.Add(50*time.Second)), 0)
	if r, _ := p.Budget(); r != 43 { // 45 less b in flight, and Budget takes b off again (careful)
		t.Fatalf("with one other in flight: %d, want 43", r)
	}
}

// Answers of requests sent together come in any order: one that comes
// after another request's answer may be older than it, and only lowers.
func TestPacerAnswersOfRequestsSentTogetherOnlyLower(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 10, now.Add(time.Minute))
	a := mustStart(t, p)
	b := mustStart(t, p)
	b(http.StatusOK, rateHeaders(8, now.Add(50*time.Second)), 0) // 8 less a in flight: 7
	if r, _ := p.Budget(); r != 6 {
		t.Fatalf("after b: %d, want 6 (7 less a in flight)", r)
	}
	a(http.StatusOK, rateHeaders(30, now.Add(50*time.Second)), 0) // b answered since a was sent
	if r, _ := p.Budget(); r != 7 {
		t.Fatalf("after a, answered after b: %d, want 7 (not raised)", r)
	}
	// A long poll's answer in between counts as another answer too.
	c := mustStart(t, p)
	lp, err := p.waitLongPoll(context.Background(), "GET /events")
	if err != nil {
		t.Fatal(err)
	}
	lp(http.StatusOK, nil, 0)
	c(http.StatusOK, rateHeaders(50, now.Add(50*time.Second)), 0)
	if r, _ := p.Budget(); r > 6 {
		t.Fatalf("after an answer that a long poll's came before: %d, want no more than 6", r)
	}
}

// Zulip's X-RateLimit-Reset is whole seconds, rounded down: the budget
// comes back within the second after it. The scout waits for that second,
// so it does not meet a 429.
func TestPacerWaitsASecondPastZulipsWholeSecondReset(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 1, now.Add(2*time.Second))
	p.now = func() time.Time { return now }
	done := mustStart(t, p)
	reset := now.Add(5 * time.Second)
	done(http.StatusOK, rateHeaders(0, reset), 0)
	if !p.reset.Equal(reset.Add(time.Second)) {
		t.Fatalf("an empty budget comes back at %s, want %s (the reset and a second)", p.reset.Format(time.TimeOnly), reset.Add(time.Second).Format(time.TimeOnly))
	}
	var waited time.Duration
	p.after = func(d time.Duration) <-chan time.Time {
		waited = d
		ch := make(chan time.Time, 1)
		now = now.Add(d) // called by wait under its lock, on this goroutine
		ch <- now
		return ch
	}
	scout := mustStart(t, p)
	if waited != 6*time.Second {
		t.Fatalf("the scout waited %s, want 6s", waited)
	}
	scout(http.StatusOK, rateHeaders(3, now.Add(time.Minute)), 0)
}

// A request that got no answer may still be counted by Zulip: it is taken
// off what later answers say, for MaxRateLimitWait; one that never left
// (no connection) is not; a 5xx without the headers (a proxy's) counts as
// no answer.
func TestPacerTakesOffRequestsThatGotNoAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   int // the budget after a later answer saying 30
	}{
		{"timed out", 0, 29},
		{"a proxy's 502 without the headers", http.StatusBadGateway, 29},
		{"never sent (no connection)", notSent, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
			p := fixedPacer(now, 10, now.Add(time.Minute))
			p.now = func() time.Time { return now }
			mustStart(t, p)(tc.status, nil, 0)
			mustStart(t, p)(http.StatusOK, rateHeaders(30, now.Add(time.Minute)), 0)
			if r, _ := p.Budget(); r != tc.want {
				t.Fatalf("budget %d, want %d", r, tc.want)
			}
			// Past MaxRateLimitWait the lost request no longer counts.
			now = now.Add(MaxRateLimitWait)
			mustStart(t, p)(http.StatusOK, rateHeaders(30, now.Add(time.Minute)), 0)
			if r, _ := p.Budget(); r != 30 {
				t.Fatalf("after %s: budget %d, want 30", MaxRateLimitWait, r)
			}
		})
	}
}

// A request to a port nobody listens on never left; one that timed out
// may have reached Zulip.
func TestNoAnswerStatus(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	resp, err := http.Get("http://" + addr + "/")
	if err == nil {
		_ = resp.Body.Close()
	}
	if err == nil || noAnswerStatus(err) != notSent {
		t.Errorf("refused connection (%v): status %d, want notSent", err, noAnswerStatus(err))
	}
	if got := noAnswerStatus(context.DeadlineExceeded); got != 0 {
		t.Errorf("a timeout: %d, want 0", got)
	}
}

// Requests without an answer are taken off at most maxLost at a time: a
// Zulip that times out for long is out of reach, and once it answers its
// budget is not hidden behind every timeout of the outage.
func TestPacerBoundsTheRequestsTakenOff(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := fixedPacer(now, 100, now.Add(time.Minute))
	p.now = func() time.Time { return now }
	for range maxLost + 10 {
		mustStart(t, p)(0, nil, 0)
	}
	mustStart(t, p)(http.StatusOK, rateHeaders(50, now.Add(time.Minute)), 0)
	if r, _ := p.Budget(); r != 50-maxLost {
		t.Fatalf("budget %d, want %d", r, 50-maxLost)
	}
}
