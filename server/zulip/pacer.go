package zulip

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// MaxPaceWait is the longest a request waits for Zulip's rate-limit budget
// to come back. A longer wait fails at once with a *RateLimitError, which
// the flow turns into a change queued for later: nobody waits minutes for
// a reply.
const MaxPaceWait = 10 * time.Second

// MaxRateLimitWait is the longest any rate-limit answer is believed: a
// Retry-After, an X-RateLimit-Reset or another node's report further ahead
// (a proxy writing milliseconds, a Zulip whose clock runs ahead) counts as
// this long. Then one request goes as a scout and asks Zulip again, so a
// wrong reset never holds the bot's requests back for longer.
const MaxRateLimitWait = 5 * time.Minute

// capReset returns at, but no later than MaxRateLimitWait after now.
func capReset(now, at time.Time) time.Time {
	if limit := now.Add(MaxRateLimitWait); at.After(limit) {
		return limit
	}
	return at
}

// maxLost bounds the requests without an answer taken off the budget: a
// Zulip that times out for long is out of reach, not a budget spent.
const maxLost = 16

// unlimitedFor is how long answers without X-RateLimit-* headers (a Zulip
// without rate limits) let requests go without counting.
const unlimitedFor = time.Minute

// RateState is what Zulip's X-RateLimit-* headers said about the bot's
// budget: how many requests are left until Reset.
type RateState struct {
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

// Pacer spaces the bot's requests by Zulip's rate-limit headers, so that a
// burst of changes uses the budget and then waits for it, instead of
// running into 429 answers. Zulip counts every request of the bot, from
// every Mattermost node; when the budget runs out, OnExhausted is told so
// the plugin can pass it to the other nodes (Observe).
type Pacer struct {
	// OnExhausted, when set, is called (without the lock) each time the
	// budget is found empty: by the headers or by a 429.
	OnExhausted func(RateState)

	// now and after are the pacer's clock and timer: time.Now and
	// time.After, replaced in tests.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time

	mu        sync.Mutex
	known     bool        // remaining and reset come from Zulip
	remaining int         // requests that may still start before reset
	reset     time.Time   // when the budget grows again
	inflight  int         // requests sent and not answered
	scouting  bool        // a request is out to learn the budget
	answers   uint64      // answers (and other nodes' reports) taken in so far: the sent-alone test
	lost      []time.Time // until when each request that got no answer may still count at Zulip (at most maxLost)
	told      time.Time   // the reset last passed to OnExhausted
	changed   chan struct{}
}

// NewPacer returns a pacer that knows nothing yet: it sends one request to
// learn the budget, then as many as the budget allows.
func NewPacer() *Pacer {
	return &Pacer{now: time.Now, after: time.After, changed: make(chan struct{})}
}

// wait blocks until a request may start, or fails with a *RateLimitError
// when the budget comes back only after MaxPaceWait or after ctx's
// deadline. The returned func must be called with the answer.
//
// While the budget is unknown, or used up and due back (Zulip's reset is in
// whole seconds, so it may be a little early), one request goes alone as a
// scout: its answer tells the budget, or, as a 429, exactly when it comes
// back.
func (p *Pacer) wait(ctx context.Context, op string) (done func(status int, h http.Header, retryAfter time.Duration), err error) {
	for {
		p.mu.Lock()
		now := p.now()
		switch {
		case p.known && p.remaining > 0:
			p.remaining--
			p.inflight++
			seq := p.answers
			p.mu.Unlock()
			return p.answered(false, seq), nil
		case !p.scouting && (!p.known || !now.Before(p.reset)):
			p.scouting = true
			p.inflight++
			seq := p.answers
			p.mu.Unlock()
			return p.answered(true, seq), nil
		}
		var fire <-chan time.Time
		if p.known && now.Before(p.reset) {
			d := p.reset.Sub(now)
			deadline, hasDeadline := ctx.Deadline()
			if d > MaxPaceWait || (hasDeadline && now.Add(d).After(deadline)) {
				p.mu.Unlock()
				return nil, &RateLimitError{Op: op, RetryAfter: d}
			}
			fire = p.after(d)
		}
		changed := p.changed
		p.mu.Unlock()

		select {
		case <-ctx.Done():
			return nil, &UnavailableError{Op: op, Err: ctx.Err()}
		case <-changed:
		case <-fire:
		}
	}
}

// answered returns the func that takes in what an answer said about the
// budget; seq is the count of answers taken in when the request was sent.
func (p *Pacer) answered(scout bool, seq uint64) func(status int, h http.Header, retryAfter time.Duration) {
	return func(status int, h http.Header, retryAfter time.Duration) { p.answer(scout, seq, status, h, retryAfter) }
}

// resetSlack is added to Zulip's X-RateLimit-Reset: it is whole seconds,
// rounded down (Zulip's int()), so the budget comes back up to a second
// later; a request sent at the rounded second would meet a 429.
const resetSlack = time.Second

func (p *Pacer) answer(scout bool, seq uint64, status int, h http.Header, retryAfter time.Duration) {
	p.mu.Lock()
	p.inflight--
	if scout {
		p.scouting = false
	}
	// An answer may raise the count when no other answer (nor another
	// node's report) came in since its request was sent: every request
	// Zulip took after it is then still in flight (and taken off below),
	// and every request answered before it was sent was counted by Zulip
	// before it. Answers of requests sent together arrive in any order, so
	// the others may only lower it. A scout is no exception: a request
	// sent before it may be counted after it and answered first.
	alone := p.answers == seq
	p.answers++
	now := p.now()
	p.lost = slices.DeleteFunc(p.lost, func(until time.Time) bool { return !now.Before(until) })
	if status == 0 || status >= 500 && h.Get("X-RateLimit-Remaining") == "" {
		// No answer from Zulip itself (notSent: the request never left):
		// it may still reach Zulip and be counted. It is taken off every
		// count for as long as any rate-limit answer is believed.
		if len(p.lost) == maxLost {
			p.lost = p.lost[1:]
		}
		p.lost = append(p.lost, now.Add(MaxRateLimitWait))
	}
	var exhausted *RateState
	switch {
	case status == http.StatusTooManyRequests:
		p.known, p.remaining, p.reset = true, 0, now.Add(min(max(retryAfter, 0), MaxRateLimitWait))
		exhausted = &RateState{Remaining: 0, Reset: p.reset}
	case h.Get("X-RateLimit-Remaining") != "":
		remaining, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
		reset, err2 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
		if err1 != nil || err2 != nil {
			break
		}
		// The requests still in flight will count too (some may be counted
		// already: this errs on the careful side).
		remaining = max(remaining-p.inflight-len(p.lost), 0)
		if p.known && !alone {
			remaining = min(remaining, p.remaining)
		}
		p.known, p.remaining = true, remaining
		// Zulip gives whole seconds; the budget may come back a little
		// later, which a scout's 429 then tells precisely: an answer never
		// moves a known empty budget's return earlier. A reset further
		// ahead than MaxRateLimitWait is not believed (compared as a
		// number: a huge one would overflow time.Unix).
		at := now.Add(MaxRateLimitWait)
		if reset <= at.Unix() {
			at = time.Unix(reset, 0).Add(resetSlack)
		}
		if p.remaining > 0 || at.After(p.reset) {
			p.reset = at
		}
		if p.remaining == 0 {
			exhausted = &RateState{Remaining: 0, Reset: p.reset}
		}
	case !p.known && status > 0 && status < 500:
		// An answer without the headers: this Zulip does not limit.
		p.known, p.remaining, p.reset = true, 1<<30, now.Add(unlimitedFor)
	}
	p.notifyLocked()
	cb := p.OnExhausted
	if exhausted != nil && exhausted.Reset.Equal(p.told) {
		exhausted = nil // the cluster knows already
	} else if exhausted != nil {
		p.told = exhausted.Reset
	}
	p.mu.Unlock()
	if exhausted != nil && cb != nil {
		cb(*exhausted)
	}
}

// Observe takes in the budget another node found: it only ever makes this
// node more careful, for at most MaxRateLimitWait (the other node may run
// an older version, or its clock may run ahead).
func (p *Pacer) Observe(s RateState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !s.Reset.After(now) {
		return
	}
	// The answers of requests in flight may predate what the other node
	// saw: none of them may raise the count any more.
	p.answers++
	s.Reset = capReset(now, s.Reset)
	if !p.known {
		p.known, p.remaining, p.reset = true, max(s.Remaining, 0), s.Reset
	} else {
		p.remaining = min(p.remaining, max(s.Remaining, 0))
		if s.Reset.After(p.reset) {
			p.reset = s.Reset
		}
	}
	p.notifyLocked()
}

// notifyLocked wakes every waiter to look again.
func (p *Pacer) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Budget is what the pacer knows of the budget: requests that may still
// start before it is renewed (those sent and not answered taken off);
// known is false before Zulip's first answer, or once its reset passed.
func (p *Pacer) Budget() (remaining int, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known || !p.reset.After(p.now()) {
		return 0, false
	}
	return max(p.remaining-p.inflight, 0), true
}
