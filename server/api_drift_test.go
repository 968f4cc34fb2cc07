package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

const eveID = "eveeveeveeveeveeveeveeveev"

// driftBed is the admin test bed with Zulip sync on, against the Zulip
// emulator, and Mattermost's user list. Four pairs stand apart: bob
// (linked; his Zulip address changed), boss and eve (no Zulip account; eve's
// address starts with "="), and Zulip's "-carl" (no Mattermost user).
type driftBed struct {
	*adminBed
	zulip *zuliptest.Server
	carl  int // carl's Zulip id
	bobZ  int // bob's Zulip id
}

func newDriftBed(t *testing.T, allowOAuth bool) *driftBed {
	t.Helper()
	b := &driftBed{adminBed: newAdminBed(t, allowOAuth), zulip: zuliptest.NewServer()}
	t.Cleanup(b.zulip.Close)
	b.users[eveID] = &model.User{Id: eveID, Username: "eve", Email: "=cmd@example.org", EmailVerified: true}
	b.zulip.AddBot("sync-bot@zulip.example.com", "s3cr3t-key", zuliptest.RoleAdmin, true)
	b.bobZ = b.zulip.AddUser(zuliptest.User{Email: "bob.z@example.org", FullName: "Bob"}).ID
	b.carl = b.zulip.AddUser(zuliptest.User{Email: "-carl@example.org", FullName: "Carl"}).ID
	b.zulip.AddUser(zuliptest.User{Email: "old@example.org", FullName: "Old", Deactivated: true})

	b.api.On("GetUsers", mock.Anything).Return(func(o *model.UserGetOptions) ([]*model.User, *model.AppError) {
		b.mu.Lock()
		defer b.mu.Unlock()
		ids := make([]string, 0, len(b.users))
		for id := range b.users {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		out := []*model.User{}
		for i := o.Page * o.PerPage; i < len(ids) && i < (o.Page+1)*o.PerPage; i++ {
			c := *b.users[ids[i]]
			out = append(out, &c)
		}
		return out, nil
	})
	b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)

	cfg := &configuration{ZulipSyncEnabled: true, ZulipURL: b.zulip.URL, ZulipBotEmail: "sync-bot@zulip.example.com", ZulipAPIKey: "s3cr3t-key", AllowOAuthSessions: allowOAuth}
	zc, err := zulip.NewClient(cfg.zulipConfig("test"))
	if err != nil {
		t.Fatal(err)
	}
	b.p.setConfiguration(cfg, zc)
	if err := b.p.store.AddLink(account.Link{UserID: bobID, ZulipUserID: b.bobZ, Method: account.LinkCodeMethod, AgreedEmail: "bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	return b
}

// zulipUsersReads counts the GET /users the emulator answered.
func (b *driftBed) zulipUsersReads() int {
	n := 0
	for _, r := range b.zulip.Requests() {
		if r.Method == http.MethodGet && r.Path == "/api/v1/users" {
			n++
		}
	}
	return n
}

// serveAs is serve for another user than the admin.
func (b *driftBed) serveAs(userID, session, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/api/v1"+path, nil)
	r.Header.Set("Mattermost-User-ID", userID)
	w := httptest.NewRecorder()
	b.p.ServeHTTP(&plugin.Context{SessionId: session}, w, r)
	return w
}

// The JSON report: every row with its kind, both systems' facts and what
// to do, the counts of the whole report, one Zulip request per call.
func TestDriftRoute(t *testing.T) {
	b := newDriftBed(t, false)
	w := b.serve("s-web", http.MethodGet, "/drift", "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	row := func(kind account.DriftKind, fields map[string]any) map[string]any {
		fields["kind"], fields["label"], fields["what_to_do"] = string(kind), reply.DriftLabel(kind), reply.DriftText(kind)
		return fields
	}
	want := map[string]any{
		"mattermost_users": 3.0, "zulip_users": 4.0, "total": 4.0, "page": 0.0, "per_page": 50.0,
		"counts": map[string]any{"zulip_changed": 1.0, "no_zulip_account": 2.0, "no_mattermost_user": 1.0},
		"rows": []any{
			row(account.DriftZulipChanged, map[string]any{
				"mattermost_user_id": bobID, "mattermost_username": "bob", "mattermost_email": "bob@example.org",
				"zulip_user_id": float64(b.bobZ), "zulip_email": "bob.z@example.org", "agreed_email": "bob@example.org",
			}),
			row(account.DriftNoZulipAccount, map[string]any{"mattermost_user_id": bossID, "mattermost_username": "boss", "mattermost_email": "boss@example.org"}),
			row(account.DriftNoZulipAccount, map[string]any{"mattermost_user_id": eveID, "mattermost_username": "eve", "mattermost_email": "=cmd@example.org"}),
			row(account.DriftNoMattermostUser, map[string]any{"zulip_user_id": float64(b.carl), "zulip_email": "-carl@example.org"}),
		},
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", " ")
		wantJSON, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("answer:\n%s\nwant:\n%s", gotJSON, wantJSON)
	}
	if n := b.zulipUsersReads(); n != 1 {
		t.Errorf("%d GET /users, want 1", n)
	}
	if len(b.zulip.DirectMessages()) != 0 || b.email(bobID) != "bob@example.org" {
		t.Error("the report changed something")
	}
	if u, _ := b.zulip.User(b.bobZ); u.Email != "bob.z@example.org" {
		t.Errorf("bob's Zulip address is %s", u.Email)
	}
	if l, _, _ := b.p.store.Link(bobID); l.AgreedEmail != "bob@example.org" || l.ZulipUserID != b.bobZ {
		t.Errorf("bob's link is %+v", l)
	}
}

// Pages slice the whole report; the counts stay those of the whole.
func TestDriftRoutePages(t *testing.T) {
	b := newDriftBed(t, false)
	page := func(query string) (driftPage, int) {
		w := b.serve("s-web", http.MethodGet, "/drift"+query, "")
		var p driftPage
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		return p, w.Code
	}
	names := func(p driftPage) []string {
		var out []string
		for _, r := range p.Rows {
			out = append(out, cmp.Or(r.MattermostUsername, r.ZulipEmail))
		}
		return out
	}
	p, code := page("?page=1&per_page=2")
	if code != http.StatusOK || !slices.Equal(names(p), []string{"eve", "-carl@example.org"}) || p.Total != 4 || p.Page != 1 || p.PerPage != 2 || p.Counts[account.DriftNoZulipAccount] != 2 {
		t.Errorf("page 1 of 2: HTTP %d %+v", code, p)
	}
	p, _ = page("?page=0&per_page=3")
	if !slices.Equal(names(p), []string{"bob", "boss", "eve"}) {
		t.Errorf("page 0 of 3: %v", names(p))
	}
	w := b.serve("s-web", http.MethodGet, "/drift?page=9", "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rows":[]`) {
		t.Errorf("past the end: HTTP %d %s", w.Code, w.Body)
	}
	reads := b.zulipUsersReads()
	for _, q := range []string{"?page=-1", "?per_page=0", "?per_page=201", "?page=x"} {
		w := b.serve("s-web", http.MethodGet, "/drift"+q, "")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), reply.APIBadPage) {
			t.Errorf("%s: HTTP %d %s", q, w.Code, w.Body)
		}
	}
	if b.zulipUsersReads() != reads {
		t.Error("a bad page still read Zulip")
	}
}

// The CSV: a header row, then every row; cells a spreadsheet would read
// as a formula stay text.
func TestDriftCSVRoute(t *testing.T) {
	b := newDriftBed(t, false)
	w := b.serve("s-web", http.MethodGet, "/drift.csv", "")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), `attachment; filename="account-sync-drift.csv"`) {
		t.Fatalf("HTTP %d %v %s", w.Code, w.Header(), w.Body)
	}
	records, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	text := func(k account.DriftKind) []string {
		return []string{string(k), reply.DriftLabel(k)}
	}
	want := [][]string{
		{"kind", "label", "mattermost_user_id", "mattermost_username", "mattermost_email", "zulip_user_id", "zulip_email", "agreed_email", "what_to_do"},
		append(text(account.DriftZulipChanged), bobID, "bob", "bob@example.org", strconv.Itoa(b.bobZ), "bob.z@example.org", "bob@example.org", reply.DriftText(account.DriftZulipChanged)),
		append(text(account.DriftNoZulipAccount), bossID, "boss", "boss@example.org", "", "", "", reply.DriftText(account.DriftNoZulipAccount)),
		append(text(account.DriftNoZulipAccount), eveID, "eve", "'=cmd@example.org", "", "", "", reply.DriftText(account.DriftNoZulipAccount)),
		append(text(account.DriftNoMattermostUser), "", "", "", strconv.Itoa(b.carl), "'-carl@example.org", "", reply.DriftText(account.DriftNoMattermostUser)),
	}
	if !reflect.DeepEqual(records, want) {
		t.Errorf("CSV:\n%q\nwant:\n%q", records, want)
	}
	if n := b.zulipUsersReads(); n != 1 {
		t.Errorf("%d GET /users, want 1", n)
	}
}

func TestCSVCellsAreNeverFormulas(t *testing.T) {
	got := csvCells("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "ann@example.org", "", "a=b", "'")
	want := []string{"'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\t=1", "'\r=1", "ann@example.org", "", "a=b", "'"}
	if !slices.Equal(got, want) {
		t.Errorf("csvCells = %q, want %q", got, want)
	}
}

// Only system admins get the report, never through an OAuth 2.0 app;
// Zulip is not asked otherwise.
func TestDriftRoutesAreForAdmins(t *testing.T) {
	b := newDriftBed(t, true)
	for _, path := range []string{"/drift", "/drift.csv"} {
		for _, tc := range []struct{ user, session, code string }{
			{bobID, "s-bob", "admin_only"},
			{bossID, "s-oauth", "oauth_refused_admin"},
		} {
			w := b.serveAs(tc.user, tc.session, path)
			var body errorBody
			_ = json.NewDecoder(w.Body).Decode(&body)
			if w.Code != http.StatusForbidden || body.Error != tc.code {
				t.Errorf("%s by %s: HTTP %d %+v", path, tc.session, w.Code, body)
			}
		}
		if w := b.serve("s-pat", http.MethodGet, path, ""); w.Code != http.StatusOK {
			t.Errorf("%s with the admin's personal access token: HTTP %d %s", path, w.Code, w.Body)
		}
	}
	if n := b.zulipUsersReads(); n != 2 {
		t.Errorf("%d GET /users, want one per admin's call (2)", n)
	}
}

// /account drift answers the counts, the rows and where the full report
// is; for system admins only.
func TestDriftCommand(t *testing.T) {
	b := newDriftBed(t, false)
	text := b.command("s-web", "/account drift")
	want := reply.Drift(account.DriftReport{
		MattermostUsers: 3, ZulipUsers: 4,
		Counts: map[account.DriftKind]int{account.DriftZulipChanged: 1, account.DriftNoZulipAccount: 2, account.DriftNoMattermostUser: 1},
		Rows: []account.DriftRow{
			{UserID: bobID, Username: "bob", Email: "bob@example.org", ZulipUserID: b.bobZ, ZulipEmail: "bob.z@example.org", AgreedEmail: "bob@example.org", Kind: account.DriftZulipChanged},
			{UserID: bossID, Username: "boss", Email: "boss@example.org", Kind: account.DriftNoZulipAccount},
			{UserID: eveID, Username: "eve", Email: "=cmd@example.org", Kind: account.DriftNoZulipAccount},
			{ZulipUserID: b.carl, ZulipEmail: "-carl@example.org", Kind: account.DriftNoMattermostUser},
		},
	}, "/plugins/account-sync/api/v1/drift.csv", "/plugins/account-sync/api/v1/drift")
	if text != want {
		t.Errorf("reply:\n%s\nwant:\n%s", text, want)
	}
	resp, _ := b.p.ExecuteCommand(&plugin.Context{SessionId: "s-bob"}, &model.CommandArgs{UserId: bobID, Command: "/account drift"})
	if !strings.Contains(resp.Text, "Only system administrators can run this") || strings.Contains(resp.Text, "Nothing was changed") {
		t.Errorf("by a user: %s", resp.Text)
	}
	if reply := b.command("s-oauth", "/account drift"); !strings.Contains(reply, "never accepted from OAuth 2.0 apps") {
		t.Errorf("through an OAuth app: %s", reply)
	}
	if n := b.zulipUsersReads(); n != 1 {
		t.Errorf("%d GET /users, want 1", n)
	}
}

// The command's links are on the server's Site URL.
func TestAPIURLUsesTheSiteURL(t *testing.T) {
	api := &plugintest.API{}
	cfg := &model.Config{}
	cfg.SetDefaults()
	cfg.ServiceSettings.SiteURL = model.NewPointer("https://chat.example.org/")
	api.On("GetConfig").Return(cfg)
	p := &Plugin{client: pluginapi.NewClient(api, nil)}
	if got := p.apiURL(driftCSVPath); got != "https://chat.example.org/plugins/account-sync/api/v1/drift.csv" {
		t.Errorf("apiURL = %s", got)
	}
}
