package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Review 2: the migration's moves, report and Start button: who may use
// them, and the report's cells.
func TestReview2MigrationMovesGate(t *testing.T) {
	b := newAdminBed(t, true)
	b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)
	const id = "0123456789abcdef01234567"
	m := account.Migration{ID: id, From: "old.example", To: "new.example", State: account.MigrationPlanned, CreatedBy: bossID,
		CreatedAt: time.Now().UTC(), RatePerMinute: 200, RequestsPerUser: 1,
		Items: []account.MigrationItem{
			{UserID: "u1", Username: "=cmd", OldEmail: "=HYPERLINK(\"http://x\")@old.example", NewEmail: "+1@new.example", ZulipUserID: 7},
			{UserID: "u2", Username: "-2", OldEmail: "@sum@old.example", NewEmail: "\tx@new.example", Skip: account.MigrateSkipNotLinked},
		}}
	if err := b.p.store.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	serveAs := func(user, session, method, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if user != "" {
			r.Header.Set("Mattermost-User-ID", user)
		}
		w := httptest.NewRecorder()
		b.p.ServeHTTP(&plugin.Context{SessionId: session}, w, r)
		return w
	}
	for _, tc := range []struct {
		name, user, session, method, path string
		want                              int
	}{
		{"user start", bobID, "s-bob", http.MethodPost, "/api/v1/migrations/" + id + "/start", http.StatusForbidden},
		{"user cancel", bobID, "s-bob", http.MethodPost, "/api/v1/migrations/" + id + "/cancel", http.StatusForbidden},
		{"OAuth pause", bossID, "s-oauth", http.MethodPost, "/api/v1/migrations/" + id + "/pause", http.StatusForbidden},
		{"OAuth cancel", bossID, "s-oauth", http.MethodPost, "/api/v1/migrations/" + id + "/cancel", http.StatusForbidden},
		{"user report", bobID, "s-bob", http.MethodGet, "/api/v1/migrations/" + id + "/report.csv", http.StatusForbidden},
		{"OAuth report", bossID, "s-oauth", http.MethodGet, "/api/v1/migrations/" + id + "/report.csv", http.StatusForbidden},
		{"admin's session, bob's id", bobID, "s-web", http.MethodPost, "/api/v1/migrations/" + id + "/cancel", http.StatusUnauthorized},
		{"unknown action", bossID, "s-web", http.MethodPost, "/api/v1/migrations/" + id + "/finish", http.StatusNotFound},
	} {
		w := serveAs(tc.user, tc.session, tc.method, tc.path)
		if w.Code != tc.want && !(tc.want == http.StatusUnauthorized && w.Code == http.StatusForbidden) {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
	}
	// The Start button passes requireUser only: bob and an OAuth session
	// are refused by the service, and the plan stays planned.
	for _, tc := range []struct{ name, user, session string }{{"bob", bobID, "s-bob"}, {"OAuth", bossID, "s-oauth"}, {"bob with boss's session", bobID, "s-web"}} {
		w := serveAs(tc.user, tc.session, http.MethodPost, "/api/v1/migrations/"+id+"/button/start")
		var resp model.PostActionIntegrationResponse
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		if resp.Update != nil || resp.EphemeralText == "" {
			t.Errorf("%s pressed Start: %d %s", tc.name, w.Code, w.Body)
		}
	}
	if got, _, _ := b.p.store.Migration(id); got.State != account.MigrationPlanned {
		t.Errorf("after refused moves: %s", got.State)
	}
	// The report: every cell a spreadsheet would run is quoted.
	w := serveAs(bossID, "s-web", http.MethodGet, "/api/v1/migrations/"+id+"/report.csv")
	if w.Code != http.StatusOK {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("report rows %v %v", rows, err)
	}
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("a formula cell: %q in %q", c, row)
			}
		}
	}
}

// /account migrate start|pause|resume|cancel|status: a user and an OAuth
// app are refused, and the migration stays where it was.
func TestReview2MigrateCommandGate(t *testing.T) {
	b := newAdminBed(t, true)
	b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)
	const id = "0123456789abcdef01234567"
	m := account.Migration{ID: id, From: "old.example", To: "new.example", State: account.MigrationRunning, CreatedBy: bossID, CreatedAt: time.Now().UTC(),
		RatePerMinute: 200, RequestsPerUser: 1, Items: []account.MigrationItem{{UserID: "u1", OldEmail: "a@old.example", NewEmail: "a@new.example", ZulipUserID: 7}}}
	if err := b.p.store.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"status", "pause", "cancel"} {
		resp, _ := b.p.ExecuteCommand(&plugin.Context{SessionId: "s-bob"}, &model.CommandArgs{UserId: bobID, Command: "/account migrate " + action})
		if resp == nil || !strings.Contains(resp.Text, "Only system administrators") {
			t.Errorf("bob's %s: %+v", action, resp)
		}
		if got := b.command("s-oauth", "/account migrate "+action); !strings.Contains(got, "OAuth") {
			t.Errorf("OAuth %s: %s", action, got)
		}
	}
	if got, _, _ := b.p.store.Migration(id); got.State != account.MigrationRunning {
		t.Errorf("after refused commands: %s", got.State)
	}
}

// GET /migrations/{id} of a migration that ran: its message is the plan's
// summary, "Nothing has been changed." — false once users were changed.
func TestReview2ReadingARunMigrationSaysWhatChanged(t *testing.T) {
	b := newAdminBed(t, true)
	const id = "0123456789abcdef01234567"
	now := time.Now().UTC()
	m := account.Migration{ID: id, From: "old.example", To: "new.example", State: account.MigrationDone, CreatedBy: bossID, CreatedAt: now, StartedAt: &now, EndedAt: &now,
		RatePerMinute: 200, RequestsPerUser: 1, Items: []account.MigrationItem{{UserID: "u1", OldEmail: "a@old.example", NewEmail: "a@new.example", ZulipUserID: 7, Status: account.ItemDone}}}
	if err := b.p.store.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	w := b.serve("s-web", http.MethodGet, "/migrations/"+id, "")
	var body struct {
		State   string `json:"state"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if strings.Contains(body.Message, "Nothing has been changed") {
		t.Errorf("a done migration (1 user changed) reads: %q", body.Message)
	}
}
