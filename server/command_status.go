package main

import "context"

// commandStatus answers /account status: the caller's open or last change.
func (p *Plugin) commandStatus(userID string) string {
	return p.service().Status(userID)
}

// commandCancel answers /account cancel: drops the caller's open change if
// it has not changed anything yet.
func (p *Plugin) commandCancel(userID, sessionID string) string {
	return p.service().Cancel(context.Background(), userID, sessionID).Report()
}
