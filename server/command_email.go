package main

import (
	"context"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// commandEmail runs `/account email <new-address>` for the caller and returns
// the reply.
func (p *Plugin) commandEmail(userID, sessionID, newEmail string) string {
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: userID, SessionID: sessionID, NewEmail: newEmail})
	return res.Report()
}
