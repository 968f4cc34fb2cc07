package main

import (
	"context"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// commandMigrateDomain runs `/account migrate-domain <old> <new>`: the plan
// of renaming a whole email domain, for the admin to read. It changes
// nothing.
func (p *Plugin) commandMigrateDomain(c commandCall) string {
	m, f := p.service().PlanMigration(context.Background(), c.userID, c.sessionID, c.args[0], c.args[1])
	if f != nil {
		return reply.Refusal(f, false)
	}
	return reply.MigrationPlan(m, p.apiURL(migrationsPath+"/"+m.ID))
}
