package account

import "sync"

// lockedReads are what a change reads once it holds the user's lock: the
// user, their latest change, their usage, and who has the new address in
// Mattermost. None depends on another, so they go side by side: one round
// trip to the server instead of four.
type lockedReads struct {
	user      User
	userErr   error
	latest    Change
	latestOK  bool
	latestErr error
	usage     UserUsage
	usageErr  error
	addr      *Failure // checkMattermost's answer
}

func (s *Service) readUnderLock(userID, addr string) lockedReads {
	var r lockedReads
	var wg sync.WaitGroup
	wg.Go(func() { r.latest, r.latestOK, r.latestErr = s.opts.Recorder.LatestChange(userID) })
	wg.Go(func() { r.usage, r.usageErr = s.opts.Usage.Usage(userID) })
	wg.Go(func() { r.addr = s.checkMattermost(addr, userID) })
	r.user, r.userErr = s.mm.GetUser(userID)
	wg.Wait()
	return r
}
