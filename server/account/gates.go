package account

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Limits that are not settings.
const (
	// MaxAttemptsPerHour bounds the requests of one user that reach Zulip's
	// checks, refused ones included, so nobody spends the bot's rate limit.
	MaxAttemptsPerHour = 20
	changeWindow       = 24 * time.Hour
	attemptWindow      = time.Hour
)

// CheckSession is the gate of everything a user asks for themselves: it
// lets through only the caller's own session, and sessions of OAuth 2.0
// apps or personal access tokens only when an admin allowed them:
// Mattermost itself refuses email changes from OAuth apps, and asks a
// token's holder for the password. Every command that changes an email or
// a link, and every HTTP route, passes it.
func (s *Service) CheckSession(userID, sessionID string) *Failure {
	sess, f := s.ownSession(userID, sessionID)
	if f != nil {
		return f
	}
	if sess.IsOAuth && !s.opts.AllowOAuth {
		return newFailure(CodeOAuthRefused, nil)
	}
	if sess.IsAccessToken && !s.opts.AllowOAuth {
		return newFailure(CodeTokenRefused, nil)
	}
	return nil
}

// ownSession reads the session and makes sure it is userID's.
func (s *Service) ownSession(userID, sessionID string) (Session, *Failure) {
	if sessionID == "" {
		return Session{}, newFailure(CodeSessionUnknown, errors.New("the request carries no session"))
	}
	sess, err := s.mm.GetSession(sessionID)
	if err != nil {
		return Session{}, newFailure(CodeSessionUnknown, err)
	}
	if sess.UserID != userID {
		return Session{}, newFailure(CodeSessionUnknown, fmt.Errorf("the session belongs to user %s, not %s", sess.UserID, userID))
	}
	return sess, nil
}

// CheckAdmin is the gate of what only system admins may do: another user's
// email or status, link-all, the Zulip check, the drift report. The session must be the
// admin's own, the admin a system admin (by the server's permission
// checks), and never an OAuth 2.0 app's, whatever Allow OAuth 2.0 apps
// says: Mattermost never lets an OAuth app change another user's email, and
// an app an admin authorized must not borrow the admin's powers. A personal
// access token (an admin's script) passes when the setting allows tokens.
func (s *Service) CheckAdmin(adminID, sessionID string) *Failure {
	sess, f := s.ownSession(adminID, sessionID)
	if f != nil {
		return f
	}
	if !s.mm.IsSystemAdmin(adminID) {
		return newFailure(CodeAdminOnly, nil)
	}
	if sess.IsOAuth {
		return newFailure(CodeOAuthRefusedAdmin, nil)
	}
	if sess.IsAccessToken && !s.opts.AllowOAuth {
		return newFailure(CodeTokenRefused, nil)
	}
	return nil
}

// onBehalfGate is CheckAdmin for a change an admin asks for another user.
func (s *Service) onBehalfGate(req Request) *Failure {
	if !req.onBehalf() {
		return nil
	}
	return s.CheckAdmin(req.ActorID, req.SessionID)
}

// countLookup counts a request that reaches Zulip outside a change (a link
// code's address lookup) against the user's hourly attempts.
func (s *Service) countLookup(userID string) *Failure {
	if s.mm.IsSystemAdmin(userID) {
		return nil
	}
	u, err := s.opts.Usage.Usage(userID)
	if err != nil {
		return newFailure(CodeInternal, err)
	}
	now := s.opts.Now()
	lim := &limiter{userID: userID, usage: UserUsage{Changes: u.Changes, Attempts: since(u.Attempts, now.Add(-attemptWindow))}}
	if len(lim.usage.Attempts) >= MaxAttemptsPerHour {
		return limitFailure(CodeTooManyAttempts, MaxAttemptsPerHour, lim.usage.Attempts, attemptWindow)
	}
	lim.countAttempt(s)
	return nil
}

// limiter holds a user's usage while the user's lock is held.
type limiter struct {
	userID string
	usage  UserUsage
	off    bool // no usage store, or a system admin
	// noAttempts: requests the user did not make (an applied change made
	// in Zulip elsewhere) do not count against their hourly attempts.
	noAttempts bool
	// held: an attempt is saved with the change's count, or by flush at
	// the end of the request (one write, not two, for a change made). The
	// change's count is written side by side with what follows it (the
	// Zulip PATCH): pending is that write, which flush waits for.
	held, unsaved bool
	pending       chan struct{}
}

// checkLimits refuses a user who reached the daily limit of changes or the
// hourly limit of attempts. System admins (by the server's permission
// checks) are exempt; the server is asked only when a limit is reached,
// so that a change under the limits costs no permission check.
func (s *Service) checkLimits(userID string) (*limiter, *Failure) {
	u, err := s.opts.Usage.Usage(userID)
	return s.limitsFrom(userID, u, err)
}

// limitsFrom is checkLimits on the user's usage as read.
func (s *Service) limitsFrom(userID string, u UserUsage, err error) (*limiter, *Failure) {
	lim := &limiter{userID: userID}
	if err != nil {
		if s.mm.IsSystemAdmin(userID) {
			lim.off = true // exempt, whatever the usage
			return lim, nil
		}
		return nil, newFailure(CodeInternal, err)
	}
	now := s.opts.Now()
	lim.usage = UserUsage{Changes: since(u.Changes, now.Add(-changeWindow)), Attempts: since(u.Attempts, now.Add(-attemptWindow))}
	var f *Failure
	switch {
	case s.opts.MaxChangesPerDay > 0 && len(lim.usage.Changes) >= s.opts.MaxChangesPerDay:
		f = limitFailure(CodeLimitReached, s.opts.MaxChangesPerDay, lim.usage.Changes, changeWindow)
	case len(lim.usage.Attempts) >= MaxAttemptsPerHour:
		f = limitFailure(CodeTooManyAttempts, MaxAttemptsPerHour, lim.usage.Attempts, attemptWindow)
	}
	if f != nil && !s.mm.IsSystemAdmin(userID) {
		return nil, f
	}
	if f != nil {
		lim.off = true // a system admin: exempt, and not counted further
	}
	return lim, nil
}

// limitFailure says when the oldest entry that keeps the user at the limit
// leaves the window.
func limitFailure(code Code, limit int, times []time.Time, window time.Duration) *Failure {
	f := newFailure(code, fmt.Errorf("%d in the last %s", len(times), window))
	f.Limit = limit
	f.Until = times[len(times)-limit].Add(window)
	return f
}

func (l *limiter) countAttempt(s *Service) {
	if l == nil || l.off || l.noAttempts {
		return
	}
	l.usage.Attempts = append(l.usage.Attempts, s.opts.Now())
	if l.held {
		l.unsaved = true
		return
	}
	l.save(s)
}

// flush waits for a write under way and saves an attempt held back, if
// any; the request calls it before it lets go of the user's lock.
func (l *limiter) flush(s *Service) {
	if l == nil {
		return
	}
	l.wait()
	if l.unsaved {
		l.save(s)
	}
}

func (l *limiter) countChange(s *Service) {
	if l == nil || l.off {
		return
	}
	l.usage.Changes = append(l.usage.Changes, s.opts.Now())
	if l.held {
		l.saveBeside(s)
		return
	}
	l.save(s)
}

func (l *limiter) save(s *Service) {
	l.wait()
	l.unsaved = false
	l.write(s, l.usage)
}

// saveBeside starts the write and returns: flush (or the next save) waits
// for it, so it is done before the user's lock is let go.
func (l *limiter) saveBeside(s *Service) {
	l.wait()
	l.unsaved = false
	u := UserUsage{Changes: slices.Clone(l.usage.Changes), Attempts: slices.Clone(l.usage.Attempts)}
	done := make(chan struct{})
	l.pending = done
	go func() {
		defer close(done)
		defer recovered(func(err error) { s.warnUsage(l.userID, err) })
		l.write(s, u)
	}()
}

// wait waits for the write under way, if any.
func (l *limiter) wait() {
	if l.pending != nil {
		<-l.pending
		l.pending = nil
	}
}

func (l *limiter) write(s *Service, u UserUsage) {
	if err := s.opts.Usage.SaveUsage(l.userID, u); err != nil {
		s.warnUsage(l.userID, err)
	}
}

func (s *Service) warnUsage(userID string, err error) {
	s.opts.Logger.Error("account sync: could not save the user's usage", "user_id", userID, "error", err.Error())
}

// since keeps the times after from, oldest first.
func since(times []time.Time, from time.Time) []time.Time {
	var out []time.Time
	for _, t := range times {
		if t.After(from) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, time.Time.Compare) // nodes' clocks may differ a little
	return out
}
