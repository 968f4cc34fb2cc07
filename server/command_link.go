package main

import "context"

// commandLink runs `/account link <zulip-address>` (the bot sends a code in
// Zulip) and `/account link <code>` (the code binds the accounts).
func (p *Plugin) commandLink(userID, sessionID, arg string) string {
	return p.service().Link(context.Background(), userID, sessionID, arg).Report()
}

// commandUnlink runs `/account unlink`.
func (p *Plugin) commandUnlink(userID, sessionID string) string {
	return p.service().Unlink(context.Background(), userID, sessionID).Report()
}

// commandLinkAll runs `/account link-all [unverified]`; the service checks
// that the caller is a system admin.
func (p *Plugin) commandLinkAll(userID, sessionID string, trustUnverified bool) string {
	return p.service().LinkAll(context.Background(), userID, sessionID, trustUnverified).Report()
}
