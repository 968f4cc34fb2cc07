package main

import (
	"context"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The handlers of the subcommands every user may run, for the caller's own
// account. The service checks the session.

// commandEmail runs `/account email <new-address>`.
func (p *Plugin) commandEmail(c commandCall) string {
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: c.userID, SessionID: c.sessionID, NewEmail: c.args[0]})
	return res.Report()
}

// commandStatus runs `/account status`: the caller's open or last change.
func (p *Plugin) commandStatus(c commandCall) string {
	return p.service().Status(c.userID)
}

// commandCancel runs `/account cancel`: drops the caller's open change if
// it has not changed anything yet.
func (p *Plugin) commandCancel(c commandCall) string {
	return p.service().Cancel(context.Background(), c.userID, c.sessionID).Report()
}

// commandLink runs `/account link <zulip-address>` (the bot sends a code in
// Zulip) and `/account link <code>` (the code links the accounts).
func (p *Plugin) commandLink(c commandCall) string {
	return p.service().Link(context.Background(), c.userID, c.sessionID, c.args[0]).Report()
}

// commandUnlink runs `/account unlink`.
func (p *Plugin) commandUnlink(c commandCall) string {
	return p.service().Unlink(context.Background(), c.userID, c.sessionID).Report()
}
