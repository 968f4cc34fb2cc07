package zuliptest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateLimiter is a sliding-window log, like Zulip's: a request is allowed
// when fewer than limit requests were allowed in the last window. Refused
// requests are not counted.
type rateLimiter struct {
	limit  int // <= 0: unlimited
	window time.Duration
	hits   map[string][]time.Time
}

// rateResult is the outcome of one rateLimiter.take.
type rateResult struct {
	allowed    bool
	limit      int
	remaining  int
	reset      time.Time // when the window frees up
	retryAfter float64   // seconds, when refused
}

func (l *rateLimiter) set(n int, window time.Duration) {
	l.limit = n
	l.window = window
}

// take counts one request by key at now, unless it is over the limit.
func (l *rateLimiter) take(key string, now time.Time) rateResult {
	if l.limit <= 0 || l.window <= 0 {
		return rateResult{allowed: true, limit: l.limit, reset: now}
	}
	if l.hits == nil {
		l.hits = make(map[string][]time.Time)
	}
	h := l.hits[key]
	cut := 0
	for cut < len(h) && !h[cut].After(now.Add(-l.window)) {
		cut++
	}
	h = h[cut:]
	if len(h) >= l.limit {
		free := h[len(h)-l.limit].Add(l.window)
		l.hits[key] = h
		return rateResult{
			limit:      l.limit,
			reset:      free,
			retryAfter: free.Sub(now).Seconds(),
		}
	}
	h = append(h, now)
	l.hits[key] = h
	return rateResult{
		allowed:   true,
		limit:     l.limit,
		remaining: l.limit - len(h),
		reset:     h[0].Add(l.window),
	}
}

// setHeaders writes Zulip's X-RateLimit-* headers.
func (r rateResult) setHeaders(h http.Header) {
	if r.limit <= 0 {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(r.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(r.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(r.reset.Unix(), 10))
}

// pyFloat formats f the way Python's str(float) does for ordinary values:
// always with a decimal point, e.g. "28.706807374954224" or "60.0".
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}
