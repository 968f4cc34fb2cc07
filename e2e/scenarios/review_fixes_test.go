package scenarios

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
)

// verificationToken waits for a Mattermost verification mail to addr
// after the first seen mails and returns its token.
func verificationToken(t *testing.T, seen int, addr string) string {
	t.Helper()
	tokenRE := regexp.MustCompile(`token=([A-Za-z0-9]+)`)
	// Other mails reach the address too (the notice of a change).
	mail, err := w.Bed.Mail.WaitForAfter(ctxFor(t), seen, func(m testbed.Mail) bool { return m.SentTo(addr) && tokenRE.MatchString(m.Body+m.HTML) })
	if err != nil {
		t.Fatalf("no verification mail to %s: %v", addr, err)
	}
	m := tokenRE.FindStringSubmatch(mail.Body + mail.HTML)
	if m == nil {
		t.Fatalf("no token in the verification mail:\n%s", mail.Body)
	}
	return m[1]
}

// Issue 13, point 1: with Require Email Verification on, Zulip refuses
// after the user opened the link (the address was taken in Zulip
// meanwhile). Mattermost holds the way back for a link to the old address:
// the change waits for it and says so, and once it is opened the change
// ends rolled back with both systems on the old address.
func TestRollbackWaitsForItsLinkOnTheRealServer(t *testing.T) {
	withServerConfig(t,
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(true) },
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(false) })
	p := newPerson(t)
	newEmail := newAddress()
	seen := w.Bed.Mail.Count()

	assertContains(t, run(t, p.client, "/account email "+newEmail), "sent a confirmation link to `"+newEmail+"`")
	token := verificationToken(t, seen, newEmail)

	// Someone takes the address in Zulip before the link is opened.
	w.Zulip.AddUser(zuliptestUser(newEmail))
	seen = w.Bed.Mail.Count()
	if _, err := w.Bed.NewClient().VerifyUserEmail(ctxFor(t), token); err != nil {
		t.Fatalf("following the verification link: %v", err)
	}

	rec := waitForState(t, p.client, "rollback_pending_verification")
	assertRecord(t, rec, map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "rollback_pending_verification", "mattermost": "rollback_pending_verification", "zulip": "untouched",
	}, nil, "")
	if rec["give_up_at"] == nil {
		t.Errorf("record %v: want the link's lifetime as give-up time", rec)
	}
	assertEmails(t, p, newEmail, p.email) // held: Mattermost has the new one until the link is opened
	waitForBotMessage(t, p, "open that link", "`"+p.email+"`", "Another Zulip account already uses")
	assertContains(t, run(t, p.client, "/account status"), "open that link")

	back := verificationToken(t, seen, p.email)
	if _, err := w.Bed.NewClient().VerifyUserEmail(ctxFor(t), back); err != nil {
		t.Fatalf("following the rollback's verification link: %v", err)
	}
	waitForEmails(t, p, p.email, p.email)
	assertRecord(t, waitForState(t, p.client, "rolled_back"), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "rolled_back", "mattermost": "rolled_back", "zulip": "untouched", "code": "taken_in_zulip",
	}, nil, "")
	waitForBotMessage(t, p, "put back to `"+p.email+"`")
}

// Issue 13, point 4: the user's own id-based Zulip address is refused with
// the reason, and neither system changes.
func TestOwnIDBasedZulipAddressRefused(t *testing.T) {
	p := newPerson(t)
	w.Zulip.ResetRequests()
	dummy := "user" + strconv.Itoa(p.zulipID) + "@" + stack.ZulipHost

	reply := run(t, p.client, "/account email "+dummy)

	assertContains(t, reply, "`"+dummy+"` has the form Zulip uses for an account's number", "real email address", "Nothing was changed")
	assertUnchanged(t, p)
	assertNoPatchOf(t, p)
	if rec, _ := pluginGet(t, p.client, "/status"); rec["new_email"] == dummy {
		t.Errorf("a refused change was recorded: %v", rec)
	}
}

// Issue 13, point 10: an admin's change for a deactivated user is refused
// with the reason; neither system changes.
func TestDeactivatedUserRefused(t *testing.T) {
	p := newPerson(t)
	if _, err := w.Bed.Admin.UpdateUserActive(ctxFor(t), p.user.Id, false); err != nil {
		t.Fatalf("deactivating: %v", err)
	}
	t.Cleanup(func() { _, _ = w.Bed.Admin.UpdateUserActive(ctxFor(t), p.user.Id, true) })
	w.Zulip.ResetRequests()

	reply := run(t, w.Bed.Admin, "/account email @"+p.user.Username+" "+newAddress())

	assertContains(t, reply, "deactivated", "reactivate", "Nothing was changed")
	assertUnchanged(t, p)
	assertNoPatchOf(t, p)
}

// assertNoPatchOf checks that Zulip got no change of p's account.
func assertNoPatchOf(t *testing.T, p person) {
	t.Helper()
	for _, r := range zulipRequests(http.MethodPatch) {
		if r.Path != botPath() {
			t.Errorf("Zulip got %s %s", r.Method, r.Path)
		}
	}
}
