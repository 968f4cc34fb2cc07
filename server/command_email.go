package main

import (
	"context"

	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// commandEmail runs `/account email <new-address>` for the caller and returns
// the reply.
func (p *Plugin) commandEmail(_ *plugin.Context, userID, newEmail string) string {
	res := p.service().ChangeEmail(context.Background(), account.Request{UserID: userID, NewEmail: newEmail})
	return res.Report()
}
