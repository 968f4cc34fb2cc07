package main

import (
	"context"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// The handlers of the subcommands every user may run, for the caller's own
// account. The service checks the session.

// commandEmail runs `/account email <new-address>`.
func (p *Plugin) commandEmail(c commandCall) string {
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: c.userID, SessionID: c.sessionID, NewEmail: c.args[0]})
	return reply.Email(res)
}

// commandStatus runs `/account status`: the caller's open or last change.
func (p *Plugin) commandStatus(c commandCall) string {
	return reply.Status(p.service().Status(c.userID))
}

// commandCancel runs `/account cancel`: drops the caller's open change if
// it has not changed anything yet.
func (p *Plugin) commandCancel(c commandCall) string {
	return reply.Cancel(p.service().Cancel(context.Background(), c.userID, c.sessionID))
}

// commandLink runs `/account link <zulip-address>` (the bot sends a code in
// Zulip) and `/account link <code>` (the code links the accounts).
func (p *Plugin) commandLink(c commandCall) string {
	return reply.Link(p.service().Link(context.Background(), c.userID, c.sessionID, c.args[0]))
}

// commandUnlink runs `/account unlink`.
func (p *Plugin) commandUnlink(c commandCall) string {
	return reply.Link(p.service().Unlink(context.Background(), c.userID, c.sessionID))
}
