package zulip

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

func rateHeaders(remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "20")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

// started reports whether wait returns within d.
func startsWithin(t *testing.T, p *Pacer, ctx context.Context, d time.Duration) (func(int, http.Header, time.Duration), error, bool) {
	t.Helper()
	type res struct {
		done func(int, http.Header, time.Duration)
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		done, err := p.wait(ctx, "GET /x")
		ch <- res{done, err}
	}()
	select {
	case r := <-ch:
		return r.done, r.err, true
	case <-time.After(d):
		return nil, nil, false
	}
}

func TestPacerLearnsTheBudgetWithOneRequest(t *testing.T) {
	p := NewPacer()
	first, err, ok := startsWithin(t, p, context.Background(), time.Second)
	if !ok || err != nil {
		t.Fatalf("first request: started %v, err %v", ok, err)
	}
	// Until the first answer tells the budget, nothing else starts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiting := make(chan error, 1)
	go func() {
		done, err := p.wait(ctx, "GET /x")
		if done != nil {
			done(200, rateHeaders(5, time.Now().Add(time.Minute)), 0)
		}
		waiting <- err
	}()
	select {
	case <-waiting:
		t.Fatal("a second request started before the budget was known")
	case <-time.After(100 * time.Millisecond):
	}
	first(200, rateHeaders(5, time.Now().Add(time.Minute)), 0)
	select {
	case err := <-waiting:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("the second request did not start once the budget was known")
	}
}

func TestPacerUsesTheBudgetThenWaitsForTheReset(t *testing.T) {
	p := NewPacer()
	var exhausted []RateState
	p.OnExhausted = func(s RateState) { exhausted = append(exhausted, s) }
	done, _, _ := startsWithin(t, p, context.Background(), time.Second)
	reset := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second) // whole seconds, as Zulip sends
	done(200, rateHeaders(2, reset), 0)
	for i := range 2 {
		d, err, ok := startsWithin(t, p, context.Background(), 100*time.Millisecond)
		if !ok || err != nil {
			t.Fatalf("request %d within the budget did not start: %v", i, err)
		}
		defer d(200, rateHeaders(0, reset), 0)
	}
	// The budget is used up: the next one waits until the reset, though
	// the two before it are still unanswered.
	d, err, ok := startsWithin(t, p, context.Background(), 5*time.Second)
	if !ok || err != nil {
		t.Fatalf("request after the reset: started %v, err %v", ok, err)
	}
	if time.Now().Before(reset) {
		t.Fatalf("a request started %s before the reset", time.Until(reset))
	}
	d(200, rateHeaders(19, time.Now().Add(2*time.Second)), 0)
	if len(exhausted) != 0 {
		t.Fatalf("told the cluster %+v though no answer said the budget was empty", exhausted)
	}
}

func TestPacerGivesUpAtOnceWhenTheWaitIsTooLong(t *testing.T) {
	p := NewPacer()
	done, _, _ := startsWithin(t, p, context.Background(), time.Second)
	done(http.StatusTooManyRequests, http.Header{}, 30*time.Second)

	began := time.Now()
	_, err, ok := startsWithin(t, p, context.Background(), time.Second)
	var rl *RateLimitError
	if !ok || !errors.As(err, &rl) || rl.RetryAfter < 29*time.Second || rl.RetryAfter > 30*time.Second {
		t.Fatalf("err %v (returned %v), want a RateLimitError retrying after about 30 s", err, ok)
	}
	if time.Since(began) > 200*time.Millisecond {
		t.Fatal("gave up only after waiting")
	}

	// A wait within MaxPaceWait but past the caller's deadline fails too.
	p = NewPacer()
	done, _, _ = startsWithin(t, p, context.Background(), time.Second)
	done(http.StatusTooManyRequests, http.Header{}, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err, ok = startsWithin(t, p, ctx, 300*time.Millisecond)
	if !ok || !errors.As(err, &rl) {
		t.Fatalf("err %v (returned %v), want a RateLimitError at once", err, ok)
	}
}

func TestPacer429IsPreciseAndShared(t *testing.T) {
	p := NewPacer()
	var got []RateState
	var mu sync.Mutex
	p.OnExhausted = func(s RateState) { mu.Lock(); got = append(got, s); mu.Unlock() }
	done, _, _ := startsWithin(t, p, context.Background(), time.Second)
	before := time.Now()
	done(http.StatusTooManyRequests, http.Header{}, 300*time.Millisecond)
	mu.Lock()
	if len(got) != 1 || got[0].Remaining != 0 || got[0].Reset.Before(before.Add(300*time.Millisecond)) || got[0].Reset.After(time.Now().Add(300*time.Millisecond)) {
		t.Fatalf("told the cluster %+v, want no budget until 300 ms from the 429", got)
	}
	mu.Unlock()
	d, err, ok := startsWithin(t, p, context.Background(), 2*time.Second)
	if !ok || err != nil {
		t.Fatalf("after the Retry-After: started %v, err %v", ok, err)
	}
	if time.Since(before) < 300*time.Millisecond {
		t.Fatal("started before the Retry-After")
	}
	d(200, nil, 0)

	// Another node's empty budget holds this one back too.
	other := NewPacer()
	other.Observe(RateState{Remaining: 0, Reset: time.Now().Add(300 * time.Millisecond)})
	began := time.Now()
	d, err, ok = startsWithin(t, other, context.Background(), 2*time.Second)
	if !ok || err != nil || time.Since(began) < 250*time.Millisecond {
		t.Fatalf("after another node's report: started %v after %s, err %v", ok, time.Since(began), err)
	}
	d(200, rateHeaders(5, time.Now().Add(time.Minute)), 0)
	// A report from the past changes nothing.
	other.Observe(RateState{Remaining: 0, Reset: time.Now().Add(-time.Second)})
	if _, err, ok := startsWithin(t, other, context.Background(), 100*time.Millisecond); !ok || err != nil {
		t.Fatalf("a stale report held the pacer back: %v %v", ok, err)
	}
}

func TestPacerWithoutHeadersDoesNotSerialise(t *testing.T) {
	p := NewPacer()
	done, _, _ := startsWithin(t, p, context.Background(), time.Second)
	done(200, http.Header{}, 0)
	var held []func(int, http.Header, time.Duration)
	for i := range 10 {
		d, err, ok := startsWithin(t, p, context.Background(), 100*time.Millisecond)
		if !ok || err != nil {
			t.Fatalf("request %d waited on a Zulip that sends no limits", i)
		}
		held = append(held, d)
	}
	for _, d := range held {
		d(200, http.Header{}, 0)
	}
}

// Against the emulator's real limiter (a sliding window like Zulip's): a
// burst three times the budget all succeeds. Paced, Zulip answers 429 about
// once a window (its reset is in whole seconds, so a scout learns the exact
// moment); unpaced, two thirds of the burst would meet a 429, then a third.
func TestClientBurstIsPacedByTheHeaders(t *testing.T) {
	const limit, window, n = 10, time.Second, 30
	srv := zuliptest.NewServer(zuliptest.WithRateLimit(limit, window))
	defer srv.Close()
	bot := srv.AddBot("bot@zulip.example.com", testKey, zuliptest.RoleOwner, true)
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: "bot@zulip.example.com", APIKey: testKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := c.GetUserByID(ctx, bot.ID); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		}()
	}
	wg.Wait()
	refused := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), n)
	}
	if refused > n/3 {
		t.Fatalf("Zulip answered 429 %d times to %d requests: the burst was not paced", refused, n)
	}
}

// Requests without credentials (server_settings) have their own budget at
// Zulip (by address): their headers must not hold the bot's requests back.
func TestUnauthenticatedBudgetIsNotTheBots(t *testing.T) {
	srv := zuliptest.NewServer(zuliptest.WithRateLimit(1000, time.Minute), zuliptest.WithIPRateLimit(2, time.Minute))
	defer srv.Close()
	bot := srv.AddBot("bot@zulip.example.com", testKey, zuliptest.RoleOwner, true)
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: "bot@zulip.example.com", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if _, err := c.ServerSettings(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if _, err := c.GetUserByID(ctx, bot.ID); err != nil {
			t.Fatalf("bot request %d after the address budget ran out: %v", i, err)
		}
	}
}
