package scenarios

import (
	"net/http"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Issue 15: the scan links a user exactly where /account email would (a
// verified Mattermost email that is the real address of an active Zulip
// account nobody is linked to), so that a change made in Mattermost
// elsewhere is followed with no admin step; an unverified email is not
// linked.
func TestScanLinksByVerifiedEmail(t *testing.T) {
	withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1"})
	p := newPerson(t) // verified, and a Zulip account at the same address

	// Unverified: an admin set the address, and a Zulip account has it.
	u, c := newMMUser(t, "unv", newAddress())
	addr := newAddress()
	changeEmailAsAdmin(t, u.Id, addr)
	w.Zulip.AddUser(zuliptest.User{Email: addr, FullName: u.Username})

	if !eventually(func() bool { _, status := link(t, p.client); return status == http.StatusOK }) {
		t.Fatalf("the scan did not link %s", p.email)
	}
	assertLinked(t, p.client, p.user.Id, p.zulipID, "scan", "")
	if rec, _ := link(t, p.client); rec["agreed_email"] != p.email {
		t.Errorf("agreed %v, want %s", rec["agreed_email"], p.email)
	}
	waitForScans(t, 2)
	assertNotLinked(t, c)
	assertEmails(t, p, p.email, p.email)

	w.Zulip.ResetRequests()
	next := newAddress()
	changeEmailAsAdmin(t, p.user.Id, next)
	waitForEmails(t, p, next, next)
	waitForForward(t, p, "done")
}
