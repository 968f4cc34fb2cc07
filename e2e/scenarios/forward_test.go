package scenarios

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Issue 15, changes made in Mattermost elsewhere, on the real server: with
// the scan every second, a linked user's email changed with Mattermost's
// own API (by the user, or by an admin) reaches the linked Zulip account
// within seconds, recorded and told; Mattermost is never touched. Zulip
// refusing leaves Mattermost as it is, tells the user once and is not tried
// again; unlinked users are left alone; `report` forwards nothing.
func TestForwardChangesMadeInMattermostElsewhere(t *testing.T) {
	withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1"})
	w.Zulip.ResetRequests()
	waitForScans(t, 1) // the scheduler sees the new interval when it wakes (at most 10 s)

	t.Run("the user changes their own email", func(t *testing.T) {
		p := newLinkedPerson(t, "u")
		w.Zulip.ResetRequests()
		next := newAddress()
		changeOwnEmail(t, p, next)
		changedAt := mmUser(t, p.user.Id).UpdateAt

		waitForEmails(t, p, next, next)
		assertForwarded(t, p, next, changedAt)
	})

	t.Run("an admin changes a user's email", func(t *testing.T) {
		p := newLinkedPerson(t, "u")
		w.Zulip.ResetRequests()
		next := newAddress()
		changeEmailAsAdmin(t, p.user.Id, next)
		changedAt := mmUser(t, p.user.Id).UpdateAt

		waitForEmails(t, p, next, next)
		assertForwarded(t, p, next, changedAt)
	})

	t.Run("Zulip cannot take it", func(t *testing.T) {
		p := newLinkedPerson(t, "u")
		next := newAddress()
		w.Zulip.AddUser(zuliptest.User{Email: next, FullName: "Someone else"})
		before := zulipUser(t, p.zulipID)
		w.Zulip.ResetRequests()
		changeOwnEmail(t, p, next)

		rec := waitForForward(t, p, "failed")
		assertRecord(t, rec, map[string]any{
			"user_id": p.user.Id, "origin": "mattermost_elsewhere", "old_email": p.email, "new_email": next, "zulip_user_id": p.zulipID,
			"state": "failed", "mattermost": "changed", "zulip": "untouched", "code": "taken_in_zulip",
		}, []string{"found_elsewhere", "check_zulip"}, "check_zulip")
		waitForBotMessage(t, p, "outside Account Sync", "`"+next+"`", "could not take it", "Your Zulip email stays `"+p.email+"`")

		// Further scans leave the pair alone: one record, one message, no
		// change asked of Zulip, and Mattermost keeps the new address.
		waitForScans(t, 3)
		if got := mmEmail(t, p.user.Id); got != next {
			t.Errorf("Mattermost email = %s, want %s (never put back)", got, next)
		}
		assertZulipUntouched(t, before)
		assertNoZulipChange(t)
		if n := forwardRecords(t, p.user.Id); n != 1 {
			t.Errorf("%d records of forwards, want 1", n)
		}
		if n := botMessagesWith(t, p, "outside Account Sync"); n != 1 {
			t.Errorf("%d direct messages about the change, want 1", n)
		}
		if again := latestChange(t, p.client); again["id"] != rec["id"] {
			t.Errorf("a later scan made change %v", again["id"])
		}
	})

	t.Run("an unlinked user's change touches no Zulip account", func(t *testing.T) {
		// A Zulip account at the same address, not linked: the Mattermost
		// email is not verified (an admin set it), so the scan does not
		// link the two either.
		u, c := newMMUser(t, "unl", newAddress())
		addr := newAddress()
		changeEmailAsAdmin(t, u.Id, addr)
		zu := w.Zulip.AddUser(zuliptest.User{Email: addr, FullName: u.Username})
		p := person{user: mmUser(t, u.Id), client: c, zulipID: zu.ID, email: addr}
		if p.user.EmailVerified {
			t.Fatal("the admin's change left the email verified")
		}
		waitForScans(t, 1)
		before := zulipUser(t, p.zulipID)
		w.Zulip.ResetRequests()
		next := newAddress()
		changeOwnEmail(t, p, next)

		waitForScans(t, 2)
		assertZulipUntouched(t, before)
		assertNoZulipChange(t)
		assertNotLinked(t, p.client)
		if rec, status := pluginGet(t, p.client, "/status"); status != http.StatusNotFound || rec["error"] != "no_changes" {
			t.Errorf("GET /status: HTTP %d %v, want 404 no_changes", status, rec)
		}
		if got := mmEmail(t, p.user.Id); got != next {
			t.Errorf("Mattermost email = %s, want %s", got, next)
		}
	})

	// Last: its settings are undone to the suite's, not to the fast scan.
	t.Run("report only", func(t *testing.T) {
		withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1", "MattermostChangesElsewhere": "report"})
		p := newLinkedPerson(t, "aa") // "aa": among the first rows of the drift reply
		first := latestChange(t, p.client)
		before := zulipUser(t, p.zulipID)
		w.Zulip.ResetRequests()
		next := newAddress()
		changeEmailAsAdmin(t, p.user.Id, next)

		waitForScans(t, 2)
		assertZulipUntouched(t, before)
		assertNoZulipChange(t)
		if rec := latestChange(t, p.client); rec["id"] != first["id"] {
			t.Errorf("a change was recorded: %v", rec)
		}
		if n := botMessagesWith(t, p, "outside Account Sync"); n != 0 {
			t.Errorf("%d direct messages about the change, want none", n)
		}
		line := "@" + p.user.Username + ": Mattermost `" + next + "`, Zulip account "
		reply := run(t, w.Bed.Admin, "/account drift")
		found := false
		for _, l := range strings.Split(reply, "\n") {
			found = found || strings.Contains(l, line) && strings.HasSuffix(l, ": changed in Mattermost elsewhere")
		}
		if !found {
			t.Errorf("the drift reply has no line %q... changed in Mattermost elsewhere:\n%s", line, reply)
		}
	})
}

// An SSO or LDAP sign-in brings the directory's address; any sign-in checks
// the user at once. With the scan at its suite setting (once a day), a
// change made elsewhere reaches Zulip right after the user signs in,
// without a scan.
func TestSignInForwardsAChangeMadeElsewhere(t *testing.T) {
	p := newLinkedPerson(t, "u")
	next := newAddress()
	changeEmailAsAdmin(t, p.user.Id, next)
	w.Zulip.ResetRequests()

	if _, _, err := w.Bed.Login(ctxFor(t), p.user.Username, w.Bed.Password(p.user.Username)); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	// The sign-in itself updates the user (its last login); the forward
	// runs apart, after it.
	changedAt := mmUser(t, p.user.Id).UpdateAt

	waitForEmails(t, p, next, next)
	assertForwarded(t, p, next, changedAt)
	if n := scans(); n != 0 {
		t.Errorf("%d scans ran; the sign-in alone should forward", n)
	}
}

// The scan's settings are checked when saved, like the other numbers.
func TestScanSettingsRefusedAtSave(t *testing.T) {
	t.Cleanup(func() { _ = w.Configure(ctxFor(t), nil) })
	for name, override := range map[string]map[string]any{
		"interval 0":            {"ReconcileIntervalMinutes": "0"},
		"interval over a day":   {"ReconcileIntervalMinutes": "1441"},
		"interval not a number": {"ReconcileIntervalMinutes": "often"},
		"unknown mode":          {"MattermostChangesElsewhere": "ignore"},
	} {
		t.Run(name, func(t *testing.T) {
			err := w.Configure(ctxFor(t), override)
			if err == nil || !strings.Contains(err.Error(), "Account Sync settings not saved") {
				t.Fatalf("saving %v: %v, want a refusal naming Account Sync", override, err)
			}
		})
	}
	if err := w.Configure(ctxFor(t), map[string]any{"ReconcileIntervalMinutes": "60", "MattermostChangesElsewhere": "report"}); err != nil {
		t.Errorf("saving good scan settings: %v", err)
	}
}

// newLinkedPerson is newPerson (username starting with prefix) after a
// first `/account email`, which links the pair and makes the new address
// the one both agree on; p.email is that address.
func newLinkedPerson(t *testing.T, prefix string) person {
	t.Helper()
	u, c := newMMUser(t, prefix, randomName("u")+"@example.org")
	zu := w.Zulip.AddUser(zuliptest.User{Email: u.Email, FullName: u.Username})
	p := person{user: u, client: c, zulipID: zu.ID, email: u.Email}
	first := newAddress()
	assertContains(t, run(t, p.client, "/account email "+first), "Your email is now `"+first+"` in Mattermost and in Zulip")
	p.email = first
	assertEmails(t, p, first, first)
	return p
}

// changeOwnEmail changes the person's email with Mattermost's own API, as
// the profile page does: PUT /api/v4/users/me/patch with their password.
func changeOwnEmail(t *testing.T, p person, email string) {
	t.Helper()
	pw := w.Bed.Password(p.user.Username)
	if pw == "" {
		t.Fatal("the test bed does not know the user's password")
	}
	u, _, err := p.client.PatchUser(ctxFor(t), "me", &model.UserPatch{Email: model.NewPointer(email), Password: model.NewPointer(pw)})
	if err != nil || u.Email != email {
		t.Fatalf("changing the own email through Mattermost's API: %v", err)
	}
}

// changeEmailAsAdmin changes a user's email as the system admin:
// PUT /api/v4/users/{id}/patch.
func changeEmailAsAdmin(t *testing.T, userID, email string) {
	t.Helper()
	if u, _, err := w.Bed.Admin.PatchUser(ctxFor(t), userID, &model.UserPatch{Email: model.NewPointer(email)}); err != nil || u.Email != email {
		t.Fatalf("changing the email of %s as the admin: %v", userID, err)
	}
}

func mmUser(t *testing.T, userID string) *model.User {
	t.Helper()
	u, _, err := w.Bed.Admin.GetUser(ctxFor(t), userID, "")
	if err != nil {
		t.Fatalf("reading user %s: %v", userID, err)
	}
	return u
}

// waitForForward waits until the person's latest change is a forward of a
// change made elsewhere in state, and returns it.
func waitForForward(t *testing.T, p person, state string) map[string]any {
	t.Helper()
	var rec map[string]any
	if !eventually(func() bool {
		rec, _ = pluginGet(t, p.client, "/status")
		return rec["origin"] == "mattermost_elsewhere" && rec["state"] == state
	}) {
		t.Fatalf("after 20 s the latest change is %v, want a forward in state %s", rec, state)
	}
	return rec
}

// assertForwarded checks a change made in Mattermost elsewhere that reached
// Zulip: the whole record, one change asked of Zulip, the bot's message,
// and Mattermost as the change left it (not updated since changedAt).
func assertForwarded(t *testing.T, p person, next string, changedAt int64) {
	t.Helper()
	rec := waitForForward(t, p, "done")
	assertRecord(t, rec, map[string]any{
		"user_id": p.user.Id, "origin": "mattermost_elsewhere", "old_email": p.email, "new_email": next, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, []string{"found_elsewhere", "check_zulip", "sync_zulip"}, "")
	if _, ok := rec["requested_by"]; ok {
		t.Errorf("a forward names who asked: %v", rec["requested_by"])
	}
	waitForBotMessage(t, p, "outside Account Sync", "(it was `"+p.email+"`)", "changed your Zulip email to it too", "`"+next+"`")
	// One change asked of Zulip for this user (the scan may forward other
	// users' changes left by earlier tests meanwhile: not counted).
	n := 0
	for _, r := range zulipRequests(http.MethodPatch) {
		if r.Path == zulipPath(p) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("Zulip got %d PATCHes of %s, want one", n, zulipPath(p))
	}
	if u := mmUser(t, p.user.Id); u.Email != next || u.UpdateAt != changedAt {
		t.Errorf("Mattermost has %s, updated at %d; want %s as changed at %d, not touched by the plugin", u.Email, u.UpdateAt, next, changedAt)
	}
	if n := botMessagesWith(t, p, "outside Account Sync"); n != 1 {
		t.Errorf("%d direct messages about the change, want 1", n)
	}
}

// scans counts the scans that read Zulip's user list since the last
// ResetRequests.
func scans() int {
	n := 0
	for _, r := range zulipRequests(http.MethodGet) {
		if r.Path == "/api/v1/users" {
			n++
		}
	}
	return n
}

// waitForScans waits until n more scans have read Zulip's user list.
func waitForScans(t *testing.T, n int) {
	t.Helper()
	want := scans() + n
	if !eventually(func() bool { return scans() >= want }) {
		t.Fatalf("after 20 s only %d scans, want %d", scans(), want)
	}
}

// forwardRecords counts the user's records of forwards (the admin's list
// of changes, newest first; the suite makes far fewer than 200 after it).
func forwardRecords(t *testing.T, userID string) int {
	t.Helper()
	status, _, out := apiCall(t, w.Bed.Admin.AuthToken, http.MethodGet, "/changes?per_page=200", "")
	if status != http.StatusOK {
		t.Fatalf("GET /changes: HTTP %d %v", status, out)
	}
	n := 0
	changes, _ := out["changes"].([]any)
	for _, c := range changes {
		rec, _ := c.(map[string]any)
		if rec["user_id"] == userID && rec["origin"] == "mattermost_elsewhere" {
			n++
		}
	}
	return n
}

// botMessagesWith counts the bot's direct messages to the person holding s.
func botMessagesWith(t *testing.T, p person, s string) int {
	t.Helper()
	n := 0
	for _, m := range botMessages(t, p) {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}
