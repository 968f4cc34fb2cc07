package main

import (
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Issue 17: the audit line carries where both systems stand and, for a
// change the job carries on, its tries: it is the change's only log line
// when the change ends well.
func TestAuditLineCarriesTheStatuses(t *testing.T) {
	next := time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
	api := &plugintest.API{}
	api.On("LogInfo", "account sync audit: email change", "change_id", "c1", "actor_id", "u1", "user_id", "u1", "old_email", "a@x.org", "new_email", "b@x.org",
		"outcome", "waiting_for_zulip", "code", "zulip_unavailable", "mattermost", "untouched", "zulip", "untouched", "attempts", 1, "next_attempt_at", "2026-11-23T10:00:30Z").Return()
	client := pluginapi.NewClient(api, nil)
	a := newAuditor(&client.Log, "9.9.0", nil)
	a.Audit(account.AuditEvent{ChangeID: "c1", ActorID: "u1", UserID: "u1", OldEmail: "a@x.org", NewEmail: "b@x.org", Outcome: "waiting_for_zulip",
		Code: account.CodeZulipUnavailable, Success: true, Mattermost: account.StatusUntouched, Zulip: account.StatusUntouched, Attempts: 1, NextAttemptAt: &next})
	api.AssertExpectations(t)
}
