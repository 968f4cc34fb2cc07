package scenarios

import (
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// movedToDomain is newPerson after a first /account email to an address at
// domain: linked, both systems agreeing on it.
func movedToDomain(t *testing.T, domain string) person {
	t.Helper()
	p := newPerson(t)
	addr := randomName("m") + "@" + domain
	assertContains(t, run(t, p.client, "/account email "+addr), "in Mattermost and in Zulip")
	p.email = addr
	return p
}

func atDomain(p person, domain string) string { return strings.Split(p.email, "@")[0] + "@" + domain }

// migration reads a migration through the API as the admin.
func migration(t *testing.T, id string) map[string]any {
	t.Helper()
	status, _, out := apiCall(t, w.Bed.Admin.AuthToken, http.MethodGet, "/migrations/"+id, "")
	if status != http.StatusOK {
		t.Fatalf("GET /migrations/%s: HTTP %d %v", id, status, out)
	}
	return out
}

func progress(m map[string]any, k string) int {
	p, _ := m["progress"].(map[string]any)
	n, _ := p[k].(float64)
	return int(n)
}

// Issue 16 end to end: 30 users at the old domain, of which 2 have the new
// address taken (one in each system), one is an SSO user, one is not
// linked and one is deactivated. The plan's counts are right; after the
// start the 25 others are changed in both systems, the skipped ones are
// untouched; a plugin disable and enable mid-way completes the migration
// without changing anyone twice; the report lists everyone; users who are
// not system admins can neither start nor read it.
func TestMigrateDomainRun(t *testing.T) {
	from, to := randomName("old")+".example", randomName("new")+".example"
	var movers []person
	for range 25 {
		movers = append(movers, movedToDomain(t, from))
	}
	mmTaken, zTaken, sso, off := movedToDomain(t, from), movedToDomain(t, from), movedToDomain(t, from), movedToDomain(t, from)
	newMMUser(t, "holder", atDomain(mmTaken, to))
	w.Zulip.AddUser(zuliptest.User{Email: atDomain(zTaken, to), FullName: "holder"})
	if _, _, err := w.Bed.Admin.UpdateUserAuth(ctxFor(t), sso.user.Id, &model.UserAuth{AuthService: model.UserAuthServiceGitlab, AuthData: model.NewPointer(randomName("gl"))}); err != nil {
		t.Fatalf("making an SSO user: %v", err)
	}
	if _, err := w.Bed.Admin.UpdateUserActive(ctxFor(t), off.user.Id, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = w.Bed.Admin.UpdateUserActive(ctxFor(t), off.user.Id, true) })
	unlinked, _ := newMMUser(t, "unl", randomName("u")+"@"+from)

	status, _, plan := apiCall(t, w.Bed.Admin.AuthToken, http.MethodPost, "/migrations", `{"from":"`+from+`","to":"`+to+`"}`)
	if status != http.StatusCreated || plan["to_change"] != float64(25) {
		t.Fatalf("plan: HTTP %d, to change %v", status, plan["to_change"])
	}
	wantSkipped := map[string]any{"taken_in_mattermost": float64(1), "taken_in_zulip": float64(1), "sso": float64(1), "not_linked": float64(1), "deactivated": float64(1)}
	if got := plan["skipped"]; !mapsEqual(got, wantSkipped) {
		t.Errorf("skipped %v, want %v", got, wantSkipped)
	}
	id, _ := plan["id"].(string)

	// Not a system admin: cannot start, read or report.
	user := movers[0].client.AuthToken
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/migrations/" + id + "/start"}, {http.MethodGet, "/migrations/" + id}, {http.MethodGet, "/migrations/" + id + "/report.csv"}} {
		if status, _, _ := apiCall(t, user, c.method, c.path, ""); status != http.StatusForbidden {
			t.Errorf("a user's %s %s: HTTP %d", c.method, c.path, status)
		}
	}
	assertContains(t, run(t, movers[0].client, "/account migrate start"), "system admin")

	// Slow Zulip changes, so that the plugin is disabled mid-way.
	withFault(t, zuliptest.Fault{Method: http.MethodPatch, Kind: zuliptest.FaultSlow, Delay: 300 * time.Millisecond})
	w.Zulip.ResetRequests()
	status, _, started := apiCall(t, w.Bed.Admin.AuthToken, http.MethodPost, "/migrations/"+id+"/start", "")
	if status != http.StatusOK || started["state"] != "running" {
		t.Fatalf("start: HTTP %d %v", status, started)
	}
	if !eventually(func() bool { return progress(migration(t, id), "done") >= 3 }) {
		t.Fatalf("no user changed after 20 s: %v", migration(t, id)["progress"])
	}
	if _, err := w.Bed.Admin.DisablePlugin(ctxFor(t), pluginID); err != nil {
		t.Fatalf("disabling the plugin: %v", err)
	}
	enabled := false
	t.Cleanup(func() {
		if !enabled {
			_, _ = w.Bed.Admin.EnablePlugin(ctxFor(t), pluginID)
		}
	})
	time.Sleep(2 * time.Second)
	if _, err := w.Bed.Admin.EnablePlugin(ctxFor(t), pluginID); err != nil {
		t.Fatalf("enabling the plugin: %v", err)
	}
	enabled = true
	if err := w.Bed.WaitPluginRunning(ctxFor(t), pluginID, time.Minute); err != nil {
		t.Fatal(err)
	}
	var end map[string]any
	deadline := time.Now().Add(90 * time.Second)
	for end = migration(t, id); end["state"] != "done" || progress(end, "waiting") > 0; end = migration(t, id) {
		if time.Now().After(deadline) {
			t.Fatalf("not done after 90 s: %v %v", end["state"], end["progress"])
		}
		time.Sleep(500 * time.Millisecond)
	}
	if progress(end, "done") != 25 || progress(end, "skipped") != 5 || progress(end, "failed") != 0 {
		t.Errorf("progress %v", end["progress"])
	}

	// Both systems, and each user changed once.
	// Changes Zulip made (a PATCH cut short by the disable, which Zulip
	// never applied, is followed by the job's own: one change, two
	// requests).
	patches := map[string]int{}
	for _, r := range zulipRequests(http.MethodPatch) {
		if r.Status == http.StatusOK {
			patches[r.Path]++
		}
	}
	for _, p := range movers {
		assertEmails(t, p, atDomain(p, to), atDomain(p, to))
		if n := patches[zulipPath(p)]; n != 1 {
			t.Errorf("%s: %d Zulip changes made, want 1", p.user.Username, n)
		}
	}
	for _, p := range []person{mmTaken, zTaken, sso} {
		assertEmails(t, p, p.email, p.email)
	}
	if got := mmEmail(t, off.user.Id); got != off.email {
		t.Errorf("the deactivated user: %s", got)
	}
	status, _, list := apiCall(t, w.Bed.Admin.AuthToken, http.MethodGet, "/changes?per_page=200", "")
	perUser := map[string]int{}
	changes, _ := list["changes"].([]any)
	for _, c := range changes {
		rec, _ := c.(map[string]any)
		if rec["migration_id"] == id {
			perUser[rec["user_id"].(string)]++
			if rec["origin"] != "migration" || rec["requested_by"] != w.Bed.AdminUser.Id || rec["state"] != "done" {
				t.Errorf("record %v", rec)
			}
		}
	}
	if status != http.StatusOK || len(perUser) != 25 {
		t.Errorf("GET /changes: HTTP %d, %d users with migration records", status, len(perUser))
	}
	for u, n := range perUser {
		if n != 1 {
			t.Errorf("user %s has %d migration records", u, n)
		}
	}
	waitForBotMessage(t, movers[0], "a system administrator, asked to change your email to `"+atDomain(movers[0], to)+"`")
	admin := person{user: w.Bed.AdminUser, client: w.Bed.Admin}
	// Told at the end (a user cut short by the disable may still have been
	// settling then, so the counts are not asserted here).
	waitForBotMessage(t, admin, "The domain migration from `"+from+"` to `"+to+"`", "is **done**:", "report.csv")

	// The report: a header and every user.
	rows := migrationReport(t, id)
	if len(rows) != 31 {
		t.Fatalf("%d report rows, want a header and 30", len(rows))
	}
	outcome := map[string]string{}
	for _, r := range rows[1:] {
		outcome[r[0]] = r[5]
	}
	for _, p := range movers {
		if outcome[p.user.Id] != "done" {
			t.Errorf("%s: %q", p.user.Username, outcome[p.user.Id])
		}
	}
	for _, uid := range []string{mmTaken.user.Id, zTaken.user.Id, sso.user.Id, off.user.Id, unlinked.Id} {
		if outcome[uid] != "skipped" {
			t.Errorf("%s: %q, want skipped", uid, outcome[uid])
		}
	}
	assertContains(t, run(t, w.Bed.Admin, "/account migrate status"), "**done**", "25 done")
}

func migrationReport(t *testing.T, id string) [][]string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1/migrations/"+id+"/report.csv", nil)
	req.Header.Set("Authorization", "Bearer "+w.Bed.Admin.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %v %v", err, resp)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func mapsEqual(a any, b map[string]any) bool {
	m, ok := a.(map[string]any)
	if !ok || len(m) != len(b) {
		return false
	}
	for k, v := range b {
		if m[k] != v {
			return false
		}
	}
	return true
}

// With Require Email Verification each change waits for its link; Zulip
// follows each as it is opened, and the migration shows them done. The
// plan's Start button starts it.
func TestMigrateDomainWithVerification(t *testing.T) {
	from, to := randomName("old")+".example", randomName("new")+".example"
	movers := []person{movedToDomain(t, from), movedToDomain(t, from), movedToDomain(t, from)}
	withServerConfig(t,
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(true) },
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(false) })
	seen := w.Bed.Mail.Count()
	reply := run(t, w.Bed.Admin, "/account migrate-domain "+from+" "+to)
	assertContains(t, reply, "**3 users would change**", "each user gets a confirmation link at the new address")
	admin := person{user: w.Bed.AdminUser, client: w.Bed.Admin}
	post := botPostWith(t, admin, "from `"+from+"` to `"+to+"`")
	if _, err := w.Bed.Admin.DoPostAction(ctxFor(t), post.Id, actionID(t, post, "Start the migration")); err != nil {
		t.Fatalf("pressing Start: %v", err)
	}
	m := regexp.MustCompile(`id \x60([a-f0-9]{24})\x60`).FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("no id in %q", reply)
	}
	id := m[1]
	if !eventually(func() bool { mg := migration(t, id); return mg["state"] == "done" && progress(mg, "waiting") == 3 }) {
		t.Fatalf("not waiting for 3 links: %v", migration(t, id)["progress"])
	}
	for _, p := range movers {
		assertEmails(t, p, p.email, p.email) // nothing changes before the link
		newEmail := atDomain(p, to)
		mail, err := w.Bed.Mail.WaitForAfter(ctxFor(t), seen, func(m testbed.Mail) bool { return m.SentTo(newEmail) })
		if err != nil {
			t.Fatalf("no verification mail to %s: %v", newEmail, err)
		}
		tok := regexp.MustCompile(`token=([A-Za-z0-9]+)`).FindStringSubmatch(mail.Body + mail.HTML)
		if tok == nil {
			t.Fatalf("no token in the mail to %s", newEmail)
		}
		if _, err := w.Bed.NewClient().VerifyUserEmail(ctxFor(t), tok[1]); err != nil {
			t.Fatalf("opening the link of %s: %v", newEmail, err)
		}
		waitForEmails(t, p, newEmail, newEmail)
	}
	if mg := migration(t, id); progress(mg, "done") != 3 {
		t.Errorf("after the links: %v", mg["progress"])
	}
}

// botPostWith waits for the bot's direct message to p holding s.
func botPostWith(t *testing.T, p person, s string) *model.Post {
	t.Helper()
	var found *model.Post
	eventually(func() bool {
		for _, post := range botPosts(t, p) {
			if strings.Contains(post.Message, s) {
				found = post
				return true
			}
		}
		return false
	})
	if found == nil {
		t.Fatalf("no message from the bot with %q", s)
	}
	return found
}
