package scenarios

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Issue 16, the plan: on the real server, /account migrate-domain and
// POST /migrations list who would change and who is skipped and why, and
// change nothing; users who are not system admins cannot plan or read.
func TestMigrateDomainPlan(t *testing.T) {
	from, to := randomName("old")+".example", randomName("new")+".example"
	at := func(p person, domain string) string { return strings.Split(p.email, "@")[0] + "@" + domain }
	movedTo := func(t *testing.T, domain string) person {
		p := newPerson(t)
		addr := randomName("m") + "@" + domain
		assertContains(t, run(t, p.client, "/account email "+addr), "in Mattermost and in Zulip")
		p.email = addr
		return p
	}
	change1, change2 := movedTo(t, from), movedTo(t, from)
	mmTaken, zTaken, off := movedTo(t, from), movedTo(t, from), movedTo(t, from)
	newMMUser(t, "holder", at(mmTaken, to))
	w.Zulip.AddUser(zuliptest.User{Email: at(zTaken, to), FullName: "holder"})
	if _, err := w.Bed.Admin.UpdateUserActive(ctxFor(t), off.user.Id, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = w.Bed.Admin.UpdateUserActive(ctxFor(t), off.user.Id, true) })
	unlinked, _ := newMMUser(t, "unl", randomName("u")+"@"+from)
	zonly := w.Zulip.AddUser(zuliptest.User{Email: randomName("z") + "@" + from, FullName: "zulip only"})
	newMMUser(t, "sub", randomName("s")+"@sub."+from) // another domain
	w.Zulip.ResetRequests()

	// Not a system admin: refused, by command and by the API.
	assertContains(t, run(t, change1.client, "/account migrate-domain "+from+" "+to), "system admin")
	if status, _, out := apiCall(t, change1.client.AuthToken, http.MethodPost, "/migrations", `{"from":"`+from+`","to":"`+to+`"}`); status != http.StatusForbidden {
		t.Errorf("a user's POST /migrations: HTTP %d %v", status, out)
	}

	reply := run(t, w.Bed.Admin, "/account migrate-domain "+from+" "+to)
	assertContains(t, reply, "Nothing has been changed", "**2 users would change**", "another Mattermost user", "another Zulip account",
		"not linked to a Zulip account", "deactivated in Mattermost", "1 Zulip account at `"+from+"` with no Mattermost user")

	status, _, out := apiCall(t, w.Bed.Admin.AuthToken, http.MethodPost, "/migrations", `{"from":" `+strings.ToUpper(from)+`","to":"`+to+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /migrations: HTTP %d %v", status, out)
	}
	if out["from"] != from || out["to"] != to || out["state"] != "planned" || out["to_change"] != float64(2) || out["created_by"] != w.Bed.AdminUser.Id {
		t.Errorf("plan %v", out)
	}
	wantSkipped := map[string]any{"taken_in_mattermost": float64(1), "taken_in_zulip": float64(1), "not_linked": float64(1), "deactivated": float64(1)}
	if !reflect.DeepEqual(out["skipped"], wantSkipped) {
		t.Errorf("skipped %v, want %v", out["skipped"], wantSkipped)
	}
	users, _ := out["users"].([]any)
	byID := map[string]map[string]any{}
	for _, u := range users {
		m, _ := u.(map[string]any)
		id, _ := m["user_id"].(string)
		byID[id] = m
	}
	for _, c := range []struct {
		p    person
		skip string
	}{{change1, ""}, {change2, ""}, {mmTaken, "taken_in_mattermost"}, {zTaken, "taken_in_zulip"}, {off, "deactivated"}} {
		u := byID[c.p.user.Id]
		if u["old_email"] != c.p.email || u["new_email"] != at(c.p, to) || u["zulip_user_id"] != float64(c.p.zulipID) || (u["skip"] != nil && u["skip"] != c.skip) || (u["skip"] == nil && c.skip != "") {
			t.Errorf("user %s: %v, want skip %q", c.p.user.Username, u, c.skip)
		}
	}
	if u := byID[unlinked.Id]; u["skip"] != "not_linked" || u["reason"] == "" {
		t.Errorf("the unlinked user: %v", u)
	}
	if len(users) != 6 {
		t.Errorf("%d users in the plan, want 6", len(users))
	}
	if z, _ := out["zulip_only"].([]any); len(z) != 1 || z[0].(map[string]any)["zulip_user_id"] != float64(zonly.ID) {
		t.Errorf("Zulip only %v", out["zulip_only"])
	}

	id, _ := out["id"].(string)
	status, _, again := apiCall(t, w.Bed.Admin.AuthToken, http.MethodGet, "/migrations/"+id, "")
	// The plan's answer words the plan; a read words where it stands.
	if msg, _ := again["message"].(string); !strings.Contains(msg, "planned, not started") {
		t.Errorf("GET message %q", msg)
	}
	delete(again, "message")
	delete(out, "message")
	if status != http.StatusOK || !reflect.DeepEqual(again, out) {
		t.Errorf("GET /migrations/%s: HTTP %d %v", id, status, again)
	}
	if status, _, _ := apiCall(t, change1.client.AuthToken, http.MethodGet, "/migrations/"+id, ""); status != http.StatusForbidden {
		t.Errorf("a user's GET /migrations/{id}: HTTP %d", status)
	}
	if status, _, _ := apiCall(t, w.Bed.Admin.AuthToken, http.MethodGet, "/migrations/nope", ""); status != http.StatusNotFound {
		t.Errorf("GET /migrations/nope: HTTP %d", status)
	}

	// Nothing changed: both systems, and Zulip was only read.
	for _, p := range []person{change1, change2, mmTaken, zTaken} {
		assertEmails(t, p, p.email, p.email)
	}
	if n := len(zulipRequests(http.MethodPatch)); n != 0 {
		t.Errorf("%d PATCH requests to Zulip", n)
	}
}
