package main

import (
	"context"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"

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

// commandMigrate runs `/account migrate status|start|pause|resume|cancel`
// on the domain migration under way, else the one planned last.
func (p *Plugin) commandMigrate(c commandCall) string {
	svc := p.service()
	switch action := strings.ToLower(c.args[0]); action {
	case "status":
		m, f := svc.MigrationOf(c.userID, c.sessionID, "")
		if f != nil {
			return reply.Refusal(f, false)
		}
		return reply.MigrationStatus(m, time.Now())
	case "start", "pause", "resume", "cancel":
		m, replanned, f := svc.ControlMigration(context.Background(), c.userID, c.sessionID, "", account.MigrationAction(action))
		if f != nil {
			return reply.Refusal(f, true)
		}
		return reply.MigrationMoved(m, account.MigrationAction(action), replanned, time.Now())
	default:
		return reply.MigrateUsage
	}
}
