package main

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// migrationsPath is the domain migrations' route under the plugin's API.
const migrationsPath = "/migrations"

// migrationRequest is the body of POST /migrations.
type migrationRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// migrationUser is one user of a migration as the API answers it.
type migrationUser struct {
	account.MigrationItem
	Reason string `json:"reason,omitempty"` // the skip reason, worded
}

// migrationJSON is a migration as the API answers it.
type migrationJSON struct {
	ID              string                        `json:"id"`
	From            string                        `json:"from"`
	To              string                        `json:"to"`
	State           account.MigrationState        `json:"state"`
	CreatedBy       string                        `json:"created_by"`
	CreatedAt       string                        `json:"created_at"`
	ToChange        int                           `json:"to_change"`
	Skipped         map[account.MigrationSkip]int `json:"skipped"`
	WouldLink       int                           `json:"would_link"`
	Verification    bool                          `json:"verification"`
	RatePerMinute   int                           `json:"rate_per_minute"`
	RequestsPerUser int                           `json:"requests_per_user"`
	EstimateSeconds int                           `json:"estimate_seconds"`
	Progress        account.MigrationProgress     `json:"progress"`
	StartedAt       *time.Time                    `json:"started_at,omitempty"`
	EndedAt         *time.Time                    `json:"ended_at,omitempty"`
	StartedBy       string                        `json:"started_by,omitempty"`
	Blocked         account.Code                  `json:"blocked,omitempty"`
	Users           []migrationUser               `json:"users"`
	ZulipOnly       []account.ZulipOnlyAccount    `json:"zulip_only"`
	Message         string                        `json:"message"`
}

func toMigrationJSON(m account.Migration) migrationJSON {
	out := migrationJSON{
		ID: m.ID, From: m.From, To: m.To, State: m.State, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
		ToChange: m.ToChange(), Skipped: m.Skipped(), WouldLink: m.WouldLink, Verification: m.Verification, RatePerMinute: m.RatePerMinute,
		RequestsPerUser: m.RequestsPerUser, EstimateSeconds: int(m.Estimate.Seconds() + 0.999), Users: make([]migrationUser, 0, len(m.Items)),
		ZulipOnly: append([]account.ZulipOnlyAccount{}, m.ZulipOnly...), Message: reply.MigrationStatus(m, time.Now()),
		Progress: m.Progress(), StartedAt: m.StartedAt, EndedAt: m.EndedAt, StartedBy: m.StartedBy, Blocked: m.Blocked,
	}
	for _, it := range m.Items {
		out.Users = append(out.Users, migrationUser{MigrationItem: it, Reason: reply.MigrationSkipText(it.Skip)})
	}
	return out
}

// handlePlanMigration is POST /migrations {"from", "to"}: the plan of a
// domain migration, saved; 201 with the plan and its id. It changes nothing.
func (p *Plugin) handlePlanMigration(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONBody[migrationRequest](w, r)
	if !ok {
		return
	}
	m, f := p.service().PlanMigration(r.Context(), userOf(r), sessionOf(r), body.From, body.To)
	if f != nil {
		writeFailure(w, f)
		return
	}
	out := toMigrationJSON(m)
	out.Message = reply.MigrationSummary(m)
	writeJSON(w, http.StatusCreated, out)
}

// handleMigration is GET /migrations/{id}: the migration, its users'
// outcomes read again from their changes.
func (p *Plugin) handleMigration(w http.ResponseWriter, r *http.Request) {
	m, f := p.service().Migration(userOf(r), sessionOf(r), mux.Vars(r)["id"])
	if f != nil {
		writeFailure(w, f)
		return
	}
	writeJSON(w, http.StatusOK, toMigrationJSON(m))
}
