package account

import (
	"fmt"
	"sync"
)

// lockedReads are what a change reads once it holds the user's lock: the
// user, their latest change, their usage, and who has the new address in
// Mattermost. None depends on another, so they go side by side: one round
// trip to the server instead of four. With Zulip sync on the link is read
// with them, for the Zulip checks that follow.
type lockedReads struct {
	user      User
	userErr   error
	latest    Change
	latestOK  bool
	latestErr error
	usage     UserUsage
	usageErr  error
	addr      *Failure // checkMattermost's answer
	link      *linkAnswer
}

// linkAnswer is a read of the user's link.
type linkAnswer struct {
	link   Link
	linked bool
	err    error
}

func (s *Service) readUnderLock(userID, addr string) lockedReads {
	var r lockedReads
	var wg sync.WaitGroup
	wg.Go(func() {
		defer recovered(func(err error) { r.latestErr = err })
		r.latest, r.latestOK, r.latestErr = s.opts.Recorder.LatestChange(userID)
	})
	wg.Go(func() {
		defer recovered(func(err error) { r.usageErr = err })
		r.usage, r.usageErr = s.opts.Usage.Usage(userID)
	})
	wg.Go(func() {
		defer recovered(func(err error) { r.addr = newFailure(CodeMattermostFailed, err) })
		r.addr = s.checkMattermost(addr, userID)
	})
	if s.opts.SyncZulip {
		r.link = &linkAnswer{}
		wg.Go(func() {
			defer recovered(func(err error) { r.link.err = err })
			r.link.link, r.link.linked, r.link.err = s.opts.Links.Link(userID)
		})
	}
	r.user, r.userErr = s.mm.GetUser(userID)
	wg.Wait()
	return r
}

// takeLink returns the link read with the user's other reads, once: a try
// after this one reads it again.
func (r *Result) takeLink() *linkAnswer {
	read := r.linkRead
	r.linkRead = nil
	return read
}

// recovered, deferred in a goroutine of a request, turns a panic into the
// error fail is given, as the request's own goroutine would (its caller
// recovers): the read fails, the plugin lives.
func recovered(fail func(error)) {
	if v := recover(); v != nil {
		fail(fmt.Errorf("account: a call side by side panicked: %v", v))
	}
}
