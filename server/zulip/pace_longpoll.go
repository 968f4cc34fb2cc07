package zulip

import (
	"context"
	"net/http"
	"time"
)

// waitLongPoll is wait for a long poll (GET /events), which Zulip may hold
// for a minute and a half. Zulip counts it when it arrives, like any
// request, so it takes one request from a known budget and waits for an
// empty one to come back. But it never goes as the scout: every other
// request would wait for its answer. When the budget is unknown or due
// back, it goes uncounted, and the next scout learns the budget. Its answer
// says nothing of the budget except a 429 (Zulip refuses at once): the
// headers of an answer held for a minute are that old.
func (p *Pacer) waitLongPoll(ctx context.Context, op string) (func(status int, h http.Header, retryAfter time.Duration), error) {
	for {
		p.mu.Lock()
		now := p.now()
		switch {
		case p.known && p.remaining > 0:
			p.remaining--
			p.inflight++
			p.mu.Unlock()
			return p.longPollAnswered, nil
		case !p.known || !now.Before(p.reset):
			p.inflight++
			p.mu.Unlock()
			return p.longPollAnswered, nil
		}
		d := p.reset.Sub(now)
		if deadline, ok := ctx.Deadline(); d > MaxPaceWait || ok && now.Add(d).After(deadline) {
			p.mu.Unlock()
			return nil, &RateLimitError{Op: op, RetryAfter: d}
		}
		fire := p.after(d)
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

// longPollAnswered takes in a long poll's answer: only a 429 counts.
func (p *Pacer) longPollAnswered(status int, _ http.Header, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests {
		p.answer(false, 0, status, nil, retryAfter)
		return
	}
	p.mu.Lock()
	p.inflight--
	p.answers++
	p.mu.Unlock()
}
