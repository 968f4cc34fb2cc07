package account

import (
	"math/rand/v2"
	"time"
)

// Background retries. A change Zulip could not take for a passing reason
// (down, slow, 5xx, 429) is tried again with exponential backoff until
// RetryFor after it was asked for.
const (
	DefaultRetryFirst = 30 * time.Second // the first retry comes within about a minute
	DefaultRetryMax   = 30 * time.Minute
	DefaultRetryFor   = 24 * time.Hour
	// VerificationLinkValidity is how long Mattermost's confirmation link
	// works (its email-verification token expiry); a change waiting on the
	// link expires this long after it was asked for, plus a margin.
	VerificationLinkValidity = 24 * time.Hour
	verificationMargin       = time.Hour
	// interruptedAfter is how long a change may stay in flight before the
	// job treats it as interrupted (the plugin stopped in the middle).
	interruptedAfter = MaxDuration + time.Minute
)

// backoff is the wait before background attempt n (1 for the first): first,
// doubled for each attempt up to most, give or take a fifth (jitter, so that
// many waiting changes do not hit Zulip at once), and never shorter than the
// wait Zulip asked for.
func backoff(n int, first, most, retryAfter time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	if jitter != nil {
		d += jitter(d / 5)
	}
	return max(d, retryAfter)
}

// RandomJitter returns a duration in [-span, span] (Options.Jitter).
func RandomJitter(span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(2*span)+1)) - span //nolint:gosec // timing jitter, not a secret
}

// schedule records a failed attempt and when to try again: never after
// the give-up time (a wait Zulip asked for may reach past it), so the job
// looks at every open change by then at the latest, and ends it.
func (s *Service) schedule(ch *Change, f *Failure) {
	now := s.opts.Now()
	ch.Attempts++
	if ch.GiveUpAt == nil {
		giveUp := ch.CreatedAt.Add(s.opts.RetryFor)
		ch.GiveUpAt = &giveUp
	}
	next := now.Add(backoff(ch.Attempts, s.opts.RetryFirst, s.opts.RetryMax, f.RetryAfter, s.opts.Jitter))
	if next.After(*ch.GiveUpAt) {
		next = *ch.GiveUpAt
	}
	ch.NextAttemptAt = &next
	s.noteError(ch, f)
}

// noteError keeps the failure's code and safe text on the record.
func (s *Service) noteError(ch *Change, f *Failure) {
	if f == nil {
		return
	}
	ch.LastError = &LastError{Code: f.Code, Text: Result{Change: *ch, Failure: f}.failureText(f), Detail: f.Detail, At: s.opts.Now()}
}

// timeUp tells whether a change has run out of retries.
func (s *Service) timeUp(ch *Change) bool {
	return ch.GiveUpAt != nil && !s.opts.Now().Before(*ch.GiveUpAt)
}
