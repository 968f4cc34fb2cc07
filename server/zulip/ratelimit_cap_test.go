package zulip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// paceClock is a settable time for a pacer.
type paceClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *paceClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *paceClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func pacerWithClock() (*Pacer, *paceClock, *[]RateState) {
	clk := &paceClock{t: time.Now()}
	p := NewPacer()
	p.now = clk.now
	told := &[]RateState{}
	p.OnExhausted = func(s RateState) { *told = append(*told, s) }
	return p, clk, told
}

// refusedFor asserts that the pacer refuses a request at once, for no
// longer than MaxRateLimitWait, and returns the wait it named.
func refusedFor(t *testing.T, p *Pacer) time.Duration {
	t.Helper()
	_, err, ok := startsWithin(t, p, context.Background(), time.Second)
	var rl *RateLimitError
	if !ok || !errors.As(err, &rl) {
		t.Fatalf("err %v (returned %v), want a RateLimitError at once", err, ok)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > MaxRateLimitWait {
		t.Fatalf("refused for %s, want at most %s", rl.RetryAfter, MaxRateLimitWait)
	}
	return rl.RetryAfter
}

// scoutsAfterTheCap moves the clock past the cap and checks that one
// request goes as a scout, that the others wait for its answer, and that
// its answer (a fresh budget) lets them go.
func scoutsAfterTheCap(t *testing.T, p *Pacer, clk *paceClock) {
	t.Helper()
	clk.advance(MaxRateLimitWait)
	scout, err, ok := startsWithin(t, p, context.Background(), time.Second)
	if !ok || err != nil {
		t.Fatalf("after %s no scout went: started %v, err %v", MaxRateLimitWait, ok, err)
	}
	if _, _, ok := startsWithin(t, p, context.Background(), 100*time.Millisecond); ok {
		t.Fatal("a second request went while the scout was out")
	}
	scout(200, rateHeaders(5, clk.now().Add(time.Minute)), 0)
	if d, err, ok := startsWithin(t, p, context.Background(), time.Second); !ok || err != nil {
		t.Fatalf("after the scout's answer: started %v, err %v", ok, err)
	} else {
		d(200, rateHeaders(4, clk.now().Add(time.Minute)), 0)
	}
}

// A reset far ahead (a Zulip clock running ahead, a proxy writing
// milliseconds) holds the bot back for MaxRateLimitWait at most; then a
// scout asks Zulip again.
func TestPacerCapsAResetFarAhead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset func(now time.Time) string
	}{
		{"ten days ahead", func(now time.Time) string { return strconv.FormatInt(now.Add(10*24*time.Hour).Unix(), 10) }},
		{"in milliseconds", func(now time.Time) string { return strconv.FormatInt(now.Add(time.Minute).UnixMilli(), 10) }},
		{"beyond any time", func(time.Time) string { return "9223372036854775807" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clk, told := pacerWithClock()
			t0 := clk.now()
			done, err, _ := startsWithin(t, p, context.Background(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", tc.reset(t0))
			done(200, h, 0)

			refusedFor(t, p)
			if len(*told) != 1 || (*told)[0].Remaining != 0 || !(*told)[0].Reset.Equal(t0.Add(MaxRateLimitWait)) {
				t.Fatalf("told the cluster %+v, want no budget until %s", *told, t0.Add(MaxRateLimitWait))
			}
			scoutsAfterTheCap(t, p, clk)
		})
	}
}

// A 429 asking for days, or another node reporting a reset days ahead
// (an older version, a clock running ahead), holds back for the cap only.
func TestPacerCapsA429AndAReportFarAhead(t *testing.T) {
	t.Run("429", func(t *testing.T) {
		p, clk, told := pacerWithClock()
		t0 := clk.now()
		done, _, _ := startsWithin(t, p, context.Background(), time.Second)
		done(http.StatusTooManyRequests, http.Header{}, 10*24*time.Hour)
		if d := refusedFor(t, p); d != MaxRateLimitWait {
			t.Errorf("refused for %s, want %s", d, MaxRateLimitWait)
		}
		if len(*told) != 1 || !(*told)[0].Reset.Equal(t0.Add(MaxRateLimitWait)) {
			t.Fatalf("told the cluster %+v, want no budget until %s", *told, t0.Add(MaxRateLimitWait))
		}
		scoutsAfterTheCap(t, p, clk)
	})
	t.Run("another node's report", func(t *testing.T) {
		p, clk, told := pacerWithClock()
		p.Observe(RateState{Remaining: 0, Reset: clk.now().Add(10 * 24 * time.Hour)})
		if d := refusedFor(t, p); d != MaxRateLimitWait {
			t.Errorf("refused for %s, want %s", d, MaxRateLimitWait)
		}
		scoutsAfterTheCap(t, p, clk)
		if len(*told) != 0 {
			t.Errorf("passed another node's report back to the cluster: %+v", *told)
		}
	})
}

// Zulip's Retry-After (JSON body or header) is believed up to the cap: a
// longer one waits the cap, then the bot asks again.
func TestRetryAfterIsCapped(t *testing.T) {
	for _, tc := range []struct {
		name, header, body string
		want               time.Duration
	}{
		{"ten days in the body", "864000", `"retry-after":864000.0`, MaxRateLimitWait},
		{"an hour in the header", "3600", ``, MaxRateLimitWait},
		{"too large for a float", "1e400", ``, MaxRateLimitWait},
		{"within the cap", "120.5", ``, 120500 * time.Millisecond},
		{"negative", "-5", ``, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
				hits.Add(1)
				w.Header().Set("Retry-After", tc.header)
				w.WriteHeader(http.StatusTooManyRequests)
				body := `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT"`
				if tc.body != "" {
					body += "," + tc.body
				}
				_, _ = io.WriteString(w, body+"}")
			})
			err := c.ChangeEmailByID(context.Background(), 5, "new@example.org")
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != tc.want {
				t.Fatalf("err %v, want a RateLimitError retrying after %s", err, tc.want)
			}
			if tc.want > MaxPaceWait && hits.Load() != 1 {
				t.Errorf("Zulip was asked %d times, want once", hits.Load())
			}
		})
	}
}

// End to end through the client: a proxy writing X-RateLimit-Reset in
// milliseconds stops the bot for the cap, not for 55,000 years.
func TestClientRecoversFromAResetInMilliseconds(t *testing.T) {
	var hits atomic.Int64
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("X-RateLimit-Limit", "20")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		_, _ = io.WriteString(w, `{"result":"success","msg":""}`)
	})
	clk := &paceClock{t: time.Now()}
	c.pacer.now = clk.now
	ctx := context.Background()
	if err := c.ChangeEmailByID(ctx, 5, "new@example.org"); err != nil {
		t.Fatal(err)
	}
	err := c.ChangeEmailByID(ctx, 5, "new@example.org")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter > MaxRateLimitWait || hits.Load() != 1 {
		t.Fatalf("err %v after %d requests, want a RateLimitError of at most %s without asking Zulip", err, hits.Load(), MaxRateLimitWait)
	}
	clk.advance(MaxRateLimitWait)
	if err := c.ChangeEmailByID(ctx, 5, "new@example.org"); err != nil || hits.Load() != 2 {
		t.Fatalf("after %s: err %v, %d requests; want a scout sent to Zulip", MaxRateLimitWait, err, hits.Load())
	}
}
