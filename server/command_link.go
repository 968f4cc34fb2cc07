package main

import "context"

// commandLink runs `/account link <zulip-address>` (the bot sends a code in
// Zulip) and `/account link <code>` (the code binds the accounts).
func (p *Plugin) commandLink(userID, arg string) string {
	return p.service().Link(context.Background(), userID, arg).Report()
}

// commandUnlink runs `/account unlink`.
func (p *Plugin) commandUnlink(userID string) string {
	return p.service().Unlink(userID).Report()
}

// commandLinkAll runs `/account link-all`; the service checks that the
// caller is a system admin.
func (p *Plugin) commandLinkAll(userID string) string {
	return p.service().LinkAll(context.Background(), userID).Report()
}
