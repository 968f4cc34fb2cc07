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

// RandomJitter returns a duration in [-span, span] (Settings.Jitter).
func RandomJitter(span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(2*span)+1)) - span //nolint:gosec // timing jitter, not a secret
}

// retryTimes is when a change whose try failed with f is tried again: the
// backoff for its next attempt, never sooner than Zulip asked, and its
// give-up time, RetryFor after it was asked for (setRetry never lets the
// next try come after it, so the job ends every open change by then).
func (s *Service) retryTimes(ch *Change, f *Failure) retryTimes {
	var after time.Duration
	if f != nil {
		after = f.RetryAfter
	}
	now := s.opts.Now()
	return retryTimes{
		next:   now.Add(backoff(ch.Attempts+1, s.opts.RetryFirst, s.opts.RetryMax, after, s.opts.Jitter)),
		giveUp: ch.CreatedAt.Add(s.opts.RetryFor),
		counts: true,
	}
}

// retryNow is the retry times of a change the job should look at again at
// once (a lost answer to read back), without counting an attempt.
func (s *Service) retryNow(ch *Change) retryTimes {
	return retryTimes{next: s.opts.Now(), giveUp: ch.CreatedAt.Add(s.opts.RetryFor)}
}

// newLastError is the record of f as a change's last error: its code and
// safe facts, never a text (the edge words it when it is shown).
func newLastError(f *Failure, now time.Time) *LastError {
	return &LastError{Code: f.Code, Detail: f.Detail, RetryAfter: f.RetryAfter, At: now}
}

// RollbackLinkDeadline is when the link that puts a change's old address
// back stops working (its give-up time less the margin); ok is false when
// no give-up time is set.
func (c Change) RollbackLinkDeadline() (deadline time.Time, ok bool) {
	if c.GiveUpAt == nil {
		return time.Time{}, false
	}
	return c.GiveUpAt.Add(-verificationMargin), true
}

// timeUp tells whether a change has run out of retries.
func (s *Service) timeUp(ch *Change) bool {
	return ch.GiveUpAt != nil && !s.opts.Now().Before(*ch.GiveUpAt)
}
