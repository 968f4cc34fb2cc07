package main

import (
	"context"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// The handlers of the system admins' subcommands. Their forms in the table
// are admin-only, so the dispatch has passed the admin gate (which refuses
// OAuth 2.0 apps whatever the settings) before they run; the service checks
// it again where it changes or lists something.

// commandEmailFor runs `/account email @user <new-address>`: an admin
// changes another user's email.
func (p *Plugin) commandEmailFor(c commandCall) string {
	target, text := p.userByMention(c.args[0])
	if target == nil {
		return text
	}
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: target.Id, ActorID: c.userID, SessionID: c.sessionID, NewEmail: c.args[1]})
	return reply.EmailFor(res, target.Username)
}

// commandStatusFor runs `/account status @user`.
func (p *Plugin) commandStatusFor(c commandCall) string {
	target, text := p.userByMention(c.args[0])
	if target == nil {
		return text
	}
	return reply.StatusFor(target.Username, reply.Status(p.service().Status(target.Id)))
}

// commandLinkAll runs `/account link-all`: links every user whose verified
// email is the same in both systems.
func (p *Plugin) commandLinkAll(c commandCall) string {
	return reply.LinkAll(p.service().LinkAll(context.Background(), c.userID, c.sessionID, false))
}

// commandLinkAllUnverified runs `/account link-all unverified`, which
// trusts unverified Mattermost emails too.
func (p *Plugin) commandLinkAllUnverified(c commandCall) string {
	return reply.LinkAll(p.service().LinkAll(context.Background(), c.userID, c.sessionID, true))
}

// commandZulipCheck runs `/account zulip check`.
func (p *Plugin) commandZulipCheck(c commandCall) string {
	cfg := p.getConfiguration()
	problem := "the Zulip client could not be built (see the server log)"
	if err := cfg.validate(); err != nil {
		problem = strings.TrimPrefix(err.Error(), "zulip sync is on but not set up: ")
	}
	return reply.ZulipCheck(p.service().CheckZulip(context.Background(), c.userID, c.sessionID, cfg.ZulipBotEmail, problem))
}

// userByMention finds the user of "@name"; text says why when there is none.
func (p *Plugin) userByMention(mention string) (*model.User, string) {
	name := strings.TrimPrefix(strings.TrimSpace(mention), "@")
	u, err := p.client.User.GetByUsername(name)
	if err != nil || u == nil {
		return nil, reply.NoSuchUser(name)
	}
	return u, ""
}
