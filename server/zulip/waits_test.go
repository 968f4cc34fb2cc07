package zulip

import (
	"slices"
	"sync"
	"time"
)

// waitLog records the waits a client asks for and makes them instant: each
// one moves the pacer's clock on by its length and is over at once.
type waitLog struct {
	clk   *paceClock
	mu    sync.Mutex
	waits []time.Duration
}

// instantWaits replaces c's timers (its pacer's and its own) and clock
// with a waitLog's.
func instantWaits(c *Client) *waitLog {
	w := &waitLog{clk: &paceClock{t: time.Now()}}
	c.pacer.now = w.clk.now
	c.pacer.after = w.after
	c.after = w.after
	return w
}

func (w *waitLog) after(d time.Duration) <-chan time.Time {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	w.clk.advance(d)
	fired := make(chan time.Time, 1)
	fired <- w.clk.now()
	return fired
}

// all returns the waits asked for so far, in order.
func (w *waitLog) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.waits)
}
