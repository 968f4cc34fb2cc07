package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// Ids of the admin test bed: an admin and a user, 26 characters like
// Mattermost's.
const (
	bossID = "bossbossbossbossbossbossbo"
	bobID  = "bobbobbobbobbobbobbobbobbo"
)

// adminBed is a plugin on a mocked Mattermost with Zulip sync off: the
// admin "boss" and the user "bob", and three sessions of the admin's: the
// web app's, an OAuth 2.0 app's and a personal access token's.
type adminBed struct {
	p     *Plugin
	api   *plugintest.API
	mu    sync.Mutex
	users map[string]*model.User
}

func newAdminBed(t *testing.T, allowOAuth bool) *adminBed {
	t.Helper()
	b := &adminBed{api: &plugintest.API{}, users: map[string]*model.User{
		bossID: {Id: bossID, Username: "boss", Email: "boss@example.org", EmailVerified: true},
		bobID:  {Id: bobID, Username: "bob", Email: "bob@example.org", EmailVerified: true},
	}}
	api := b.api
	for _, s := range []*model.Session{
		{Id: "s-web", UserId: bossID},
		{Id: "s-oauth", UserId: bossID, IsOAuth: true},
		{Id: "s-pat", UserId: bossID, Props: model.StringMap{model.SessionPropType: model.SessionTypeUserAccessToken}},
	} {
		api.On("GetSession", s.Id).Return(s, nil)
	}
	api.On("HasPermissionTo", mock.Anything, mock.Anything).Return(func(userID string, p *model.Permission) bool {
		return userID == bossID && p.Id == model.PermissionManageSystem.Id
	})
	api.On("GetUser", mock.Anything).Return(func(id string) (*model.User, *model.AppError) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if u, ok := b.users[id]; ok {
			c := *u
			return &c, nil
		}
		return nil, model.NewAppError("GetUser", "app.user.missing_account.const", nil, "", http.StatusNotFound)
	})
	api.On("GetUserByUsername", mock.Anything).Return(func(name string) (*model.User, *model.AppError) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, u := range b.users {
			if u.Username == name {
				c := *u
				return &c, nil
			}
		}
		return nil, model.NewAppError("GetUserByUsername", "app.user.missing_account.const", nil, "", http.StatusNotFound)
	})
	api.On("GetUserByEmail", mock.Anything).Return(nil, model.NewAppError("GetUserByEmail", "app.user.missing_account.const", nil, "", http.StatusNotFound)).Maybe()
	api.On("UpdateUser", mock.Anything).Return(func(u *model.User) (*model.User, *model.AppError) {
		b.mu.Lock()
		defer b.mu.Unlock()
		c := *u
		b.users[u.Id] = &c
		return u, nil
	}).Maybe()
	api.On("GetConfig").Return(func() *model.Config { c := &model.Config{}; c.SetDefaults(); return c }()).Maybe()
	for _, level := range []string{"LogDebug", "LogInfo", "LogWarn", "LogError"} {
		for n := 1; n <= 25; n += 2 {
			args := make([]any, n)
			for i := range args {
				args[i] = mock.Anything
			}
			api.On(level, args...).Maybe()
		}
	}
	b.p = &Plugin{}
	b.p.SetAPI(api)
	b.p.client = pluginapi.NewClient(api, nil)
	b.p.store = store.New(&pluginapi.MemoryStore{})
	b.p.configuration = &configuration{AllowOAuthSessions: allowOAuth}
	b.p.router = b.p.newRouter()
	return b
}

func (b *adminBed) email(id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.users[id].Email
}

func (b *adminBed) serve(session, method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/api/v1"+path, strings.NewReader(body))
	r.Header.Set("Mattermost-User-ID", bossID)
	w := httptest.NewRecorder()
	b.p.ServeHTTP(&plugin.Context{SessionId: session}, w, r)
	return w
}

func (b *adminBed) command(session, line string) string {
	resp, _ := b.p.ExecuteCommand(&plugin.Context{SessionId: session}, &model.CommandArgs{UserId: bossID, Command: line})
	return resp.Text
}

// With Allow OAuth 2.0 apps on, an OAuth app holding an admin's token still
// gets 403 oauth_refused_admin on every admin route, and nobody's email
// changes; the admin's personal access token works.
func TestAdminRoutesRefuseOAuth(t *testing.T) {
	b := newAdminBed(t, true)
	for _, rt := range []struct{ method, path, body string }{
		{http.MethodPost, "/users/" + bobID + "/email", `{"email": "mallory@example.org"}`},
		{http.MethodGet, "/users/" + bobID + "/status", ""},
		{http.MethodGet, "/changes", ""},
	} {
		w := b.serve("s-oauth", rt.method, rt.path, rt.body)
		var body errorBody
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusForbidden || body.Error != "oauth_refused_admin" || !strings.Contains(body.Message, "personal access token") {
			t.Errorf("%s %s through an OAuth app: HTTP %d %s", rt.method, rt.path, w.Code, w.Body)
		}
	}
	if got := b.email(bobID); got != "bob@example.org" {
		t.Fatalf("bob's email changed to %s", got)
	}
	b.api.AssertNotCalled(t, "UpdateUser", mock.Anything)
	if _, ok, _ := b.p.store.LatestChange(bobID); ok {
		t.Error("a change record was written")
	}

	// The admin's own routes through an OAuth app follow the setting.
	if w := b.serve("s-oauth", http.MethodGet, "/status", ""); w.Code != http.StatusNotFound {
		t.Errorf("the admin's own status through an OAuth app: HTTP %d %s", w.Code, w.Body)
	}

	// The admin's script, with a personal access token.
	w := b.serve("s-pat", http.MethodPost, "/users/"+bobID+"/email", `{"email": "bob.new@example.org"}`)
	if w.Code != http.StatusOK || b.email(bobID) != "bob.new@example.org" {
		t.Fatalf("with a personal access token: HTTP %d %s; email %s", w.Code, w.Body, b.email(bobID))
	}
	if w := b.serve("s-pat", http.MethodGet, "/changes", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "bob.new@example.org") {
		t.Errorf("listing with a personal access token: HTTP %d %s", w.Code, w.Body)
	}
}

// The admin slash commands refuse an OAuth app's session too, whatever the
// setting, and change nothing.
func TestAdminCommandsRefuseOAuth(t *testing.T) {
	for _, allow := range []bool{true, false} {
		b := newAdminBed(t, allow)
		for _, line := range []string{"/account email @bob mallory@example.org", "/account status @bob", "/account link-all", "/account link-all unverified", "/account zulip check"} {
			if reply := b.command("s-oauth", line); !strings.Contains(reply, "never accepted from OAuth 2.0 apps") || !strings.Contains(reply, "personal access token") {
				t.Errorf("allow %v, %s through an OAuth app: %s", allow, line, reply)
			}
		}
		if got := b.email(bobID); got != "bob@example.org" {
			t.Fatalf("bob's email changed to %s", got)
		}
		b.api.AssertNotCalled(t, "UpdateUser", mock.Anything)
		if _, ok, _ := b.p.store.LatestChange(bobID); ok {
			t.Error("a change record was written")
		}
	}

	b := newAdminBed(t, true)
	b.command("s-pat", "/account email @bob bob.new@example.org")
	if got := b.email(bobID); got != "bob.new@example.org" {
		t.Fatalf("with a personal access token: email %s", got)
	}
	if reply := b.command("s-web", "/account status @bob"); !strings.Contains(reply, "bob.new@example.org") {
		t.Errorf("status from the web app: %s", reply)
	}
}
