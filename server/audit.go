package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The first server version with the plugin audit API (LogAuditRec): 10.10.
// pluginID is the manifest's id.
const pluginID = "account-sync"

const (
	auditRecMajor = 10
	auditRecMinor = 10
)

// auditor writes every audit event as one structured log line and, on
// servers that have it, through the server's audit API.
type auditor struct {
	log      *pluginapi.LogService
	logAudit func(rec *model.AuditRecord) // nil: the server has no audit API
}

// newAuditor detects the audit API from the server version.
func newAuditor(log *pluginapi.LogService, serverVersion string, logAudit func(*model.AuditRecord)) *auditor {
	a := &auditor{log: log}
	if versionAtLeast(serverVersion, auditRecMajor, auditRecMinor) {
		a.logAudit = logAudit
	}
	return a
}

// versionAtLeast compares "major.minor[.patch…]" with major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// Audit implements account.Auditor.
func (a *auditor) Audit(e account.AuditEvent) {
	kv := []any{"change_id", e.ChangeID, "actor_id", e.ActorID, "user_id", e.UserID, "old_email", e.OldEmail, "new_email", e.NewEmail,
		"outcome", e.Outcome, "code", string(e.Code)}
	if e.Origin != "" {
		kv = append(kv, "origin", e.Origin)
	}
	if e.Mattermost != "" || e.Zulip != "" {
		kv = append(kv, "mattermost", string(e.Mattermost), "zulip", string(e.Zulip))
	}
	if e.NextAttemptAt != nil {
		kv = append(kv, "attempts", e.Attempts, "next_attempt_at", e.NextAttemptAt.UTC().Format(time.RFC3339))
	}
	mattermostCalls.logs.Add(1)
	a.log.Info("account sync audit: email change", kv...)
	if a.logAudit == nil {
		return
	}
	mattermostCalls.audits.Add(1)
	status := model.AuditStatusSuccess
	if !e.Success {
		status = model.AuditStatusFail
	}
	a.logAudit(&model.AuditRecord{
		EventName: "accountSyncEmailChange",
		Status:    status,
		Actor:     model.AuditEventActor{UserId: e.ActorID},
		EventData: model.AuditEventData{
			Parameters:  map[string]any{"user_id": e.UserID, "new_email": e.NewEmail},
			PriorState:  map[string]any{"email": e.OldEmail},
			ObjectType:  "user",
			ResultState: map[string]any{"outcome": e.Outcome, "code": string(e.Code), "change_id": e.ChangeID, "origin": e.Origin},
		},
		Meta: map[string]any{"plugin_id": pluginID},
	})
}
