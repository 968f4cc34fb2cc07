package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// Review: who may plan or read a domain migration, over HTTP and by the
// command.
func TestReviewMigrationRoutesGate(t *testing.T) {
	b := newAdminBed(t, true)
	b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)
	serveAs := func(user, session, method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/api/v1"+path, strings.NewReader(body))
		if user != "" {
			r.Header.Set("Mattermost-User-ID", user)
		}
		w := httptest.NewRecorder()
		b.p.ServeHTTP(&plugin.Context{SessionId: session}, w, r)
		return w
	}
	for _, tc := range []struct {
		name, user, session, method, path, body string
		want                                    int
	}{
		{"OAuth plan", bossID, "s-oauth", http.MethodPost, "/migrations", `{"from":"old.example","to":"new.example"}`, http.StatusForbidden},
		{"OAuth read", bossID, "s-oauth", http.MethodGet, "/migrations/0123456789abcdef01234567", "", http.StatusForbidden},
		{"user plan", bobID, "s-bob", http.MethodPost, "/migrations", `{"from":"old.example","to":"new.example"}`, http.StatusForbidden},
		{"user read", bobID, "s-bob", http.MethodGet, "/migrations/0123456789abcdef01234567", "", http.StatusForbidden},
		{"bob with the admin's session", bobID, "s-web", http.MethodGet, "/migrations/0123456789abcdef01234567", "", http.StatusUnauthorized},
		{"no login", "", "", http.MethodPost, "/migrations", `{"from":"old.example","to":"new.example"}`, http.StatusUnauthorized},
		{"admin read, injected id", bossID, "s-web", http.MethodGet, "/migrations/0123456789abcdef01234567_items_0", "", http.StatusNotFound},
		{"admin read, missing", bossID, "s-web", http.MethodGet, "/migrations/0123456789abcdef01234567", "", http.StatusNotFound},
		{"admin plan, unknown field", bossID, "s-web", http.MethodPost, "/migrations", `{"from":"old.example","to":"new.example","x":1}`, http.StatusBadRequest},
		{"admin plan, huge body", bossID, "s-web", http.MethodPost, "/migrations", `{"from":"` + strings.Repeat("a", 5000) + `","to":"new.example"}`, http.StatusRequestEntityTooLarge},
	} {
		w := serveAs(tc.user, tc.session, tc.method, tc.path, tc.body)
		if w.Code != tc.want && !(tc.want == http.StatusUnauthorized && w.Code == http.StatusForbidden) {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
	}
	resp, _ := b.p.ExecuteCommand(&plugin.Context{SessionId: "s-bob"}, &model.CommandArgs{UserId: bobID, Command: "/account migrate-domain old.example new.example"})
	if resp == nil || !strings.Contains(resp.Text, "Only system administrators") {
		t.Errorf("bob's command: %+v", resp)
	}
	if got := b.command("s-oauth", "/account migrate-domain old.example new.example"); !strings.Contains(got, "OAuth") {
		t.Errorf("OAuth command: %s", got)
	}
}
