package main

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// The routes that move a migration, its report, and its plan's button.
const (
	migrationActionPath = migrationsPath + "/{id:[a-f0-9]{24}}/{action:start|pause|resume|cancel}"
	migrationReportPath = migrationsPath + "/{id:[a-f0-9]{24}}/report.csv"
	migrationButtonPath = "/api/v1" + migrationsPath + "/{id:[a-f0-9]{24}}/button/start"
)

// migrationMoved is the answer to a move: the migration, and whether its
// plan was computed again at the start.
type migrationMoved struct {
	migrationJSON
	Replanned bool `json:"replanned"`
}

// handleMigrationAction is POST /migrations/{id}/start|pause|resume|cancel.
func (p *Plugin) handleMigrationAction(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	m, replanned, f := p.service().ControlMigration(context.WithoutCancel(r.Context()), userOf(r), sessionOf(r), vars["id"], account.MigrationAction(vars["action"]))
	if f != nil {
		writeFailure(w, f)
		return
	}
	out := migrationMoved{migrationJSON: toMigrationJSON(m), Replanned: replanned}
	out.Message = reply.MigrationMoved(m, account.MigrationAction(vars["action"]), replanned, time.Now())
	writeJSON(w, http.StatusOK, out)
}

// handleMigrationReport is GET /migrations/{id}/report.csv: every user of
// the migration with where they stand and why (formula-safe cells).
func (p *Plugin) handleMigrationReport(w http.ResponseWriter, r *http.Request) {
	m, f := p.service().MigrationOf(userOf(r), sessionOf(r), mux.Vars(r)["id"])
	if f != nil {
		writeFailure(w, f)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="account-sync-migration-`+m.ID+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"mattermost_user_id", "mattermost_username", "old_email", "new_email", "zulip_user_id", "outcome", "reason", "change_id"})
	for _, it := range m.Items {
		outcome, reason := reply.MigrationOutcome(it)
		zid := ""
		if it.ZulipUserID != 0 {
			zid = strconv.Itoa(it.ZulipUserID)
		}
		_ = cw.Write(csvCells(it.UserID, it.Username, it.OldEmail, it.NewEmail, zid, outcome, reason, it.ChangeID))
	}
	cw.Flush()
}

// handleMigrationButton answers a press of the plan's Start button (an
// interactive message action: always 200, the text to the presser; the
// button goes once the migration started). The presser must pass the
// admin gate like any admin's move.
func (p *Plugin) handleMigrationButton(w http.ResponseWriter, r *http.Request) {
	m, replanned, f := p.service().ControlMigration(context.WithoutCancel(r.Context()), userOf(r), sessionOf(r), mux.Vars(r)["id"], account.MigrationStart)
	resp := model.PostActionIntegrationResponse{}
	if f != nil {
		resp.EphemeralText = reply.Failure(f)
	} else {
		resp.EphemeralText = reply.MigrationMoved(m, account.MigrationStart, replanned, time.Now())
		resp.Update = &model.Post{Message: reply.MigrationStarted(m)}
		resp.Update.AddProp("attachments", []any{})
	}
	writeJSON(w, http.StatusOK, resp)
}

// migrationPlanPost is the bot's direct message with a plan and its Start
// button.
func migrationPlanPost(m account.Migration, text string) *model.Post {
	post := &model.Post{Message: text}
	if m.ToChange() == 0 {
		return post
	}
	model.ParseMessageAttachment(post, []*model.MessageAttachment{{
		Actions: []*model.PostAction{{Id: "start", Name: reply.MigrationStartButton, Style: "primary",
			Integration: &model.PostActionIntegration{URL: "/plugins/" + pluginID + "/api/v1" + migrationsPath + "/" + m.ID + "/button/start"}}},
	}})
	return post
}
