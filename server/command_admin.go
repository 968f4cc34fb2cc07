package main

import (
	"context"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// commandEmailFor runs `/account email @user <new-address>`: a system
// admin changes another user's email. The admin gate refuses OAuth 2.0
// apps whatever the settings; the service checks it again.
func (p *Plugin) commandEmailFor(actorID, sessionID, mention, newEmail string) string {
	if f := p.service().AdminGate(actorID, sessionID); f != nil {
		return account.FailureText(f) + " Nothing was changed."
	}
	target, text := p.userByMention(mention)
	if target == nil {
		return text
	}
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: target.Id, ActorID: actorID, SessionID: sessionID, NewEmail: newEmail})
	return res.AdminReport(target.Username)
}

// commandStatusFor runs `/account status @user` for a system admin,
// through the admin gate (never for an OAuth 2.0 app).
func (p *Plugin) commandStatusFor(actorID, sessionID, mention string) string {
	if f := p.service().AdminGate(actorID, sessionID); f != nil {
		return account.FailureText(f)
	}
	target, text := p.userByMention(mention)
	if target == nil {
		return text
	}
	return "`@" + target.Username + "`: " + p.service().Status(target.Id)
}

// commandZulipCheck runs `/account zulip check` for a system admin.
func (p *Plugin) commandZulipCheck(actorID, sessionID string) string {
	cfg := p.getConfiguration()
	problem := "the Zulip client could not be built (see the server log)"
	if err := cfg.validate(); err != nil {
		problem = strings.TrimPrefix(err.Error(), "zulip sync is on but not set up: ")
	}
	return p.service().CheckZulip(context.Background(), actorID, sessionID, cfg.ZulipBotEmail, problem).Report()
}

// userByMention finds the user of "@name"; text says why when there is none.
func (p *Plugin) userByMention(mention string) (*model.User, string) {
	name := strings.TrimPrefix(strings.TrimSpace(mention), "@")
	u, err := p.client.User.GetByUsername(name)
	if err != nil || u == nil {
		return nil, "There is no Mattermost user `@" + strings.ReplaceAll(name, "`", "") + "`. Check the username. Nothing was changed."
	}
	return u, ""
}
