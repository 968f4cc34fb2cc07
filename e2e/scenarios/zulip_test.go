package scenarios

import (
	"net"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Scenario 6: Zulip misconfigured before anything changed. Both systems end
// as they began and the reply names the cause. (Zulip unreachable is not a
// refusal: see durable_test.go.)
func TestZulipMisconfigured(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T)
		wants []string
	}{
		{"wrong API key", func(t *testing.T) {
			withSettings(t, map[string]any{"ZulipAPIKey": "definitely-not-the-key"})
		}, []string{"did not accept the sync bot's credentials", "ask your system administrator"}},
		{"bot without the permission", func(t *testing.T) {
			withBot(t, func(b *zuliptest.User) { b.CanChangeUserEmails = false })
		}, []string{"lacks Zulip's permission to change emails", "ask your system administrator"}},
		{"bot not an administrator", func(t *testing.T) {
			withBot(t, func(b *zuliptest.User) { b.Role = zuliptest.RoleMember })
		}, []string{"is not an administrator in Zulip", "ask your system administrator"}},
		{"server at feature level 312", func(t *testing.T) {
			w.Zulip.SetFeatureLevel(312)
			t.Cleanup(func() { w.Zulip.SetFeatureLevel(332) })
			// A new client forgets the cached feature level, as after the cache expires.
			withSettings(t, map[string]any{"ZulipTimeoutSeconds": "10"})
		}, []string{"too old", "Zulip 10.0 or later"}},
		{"user hidden from the bot", func(t *testing.T) {}, nil}, // filled in below
	}
	for _, tc := range tests[:len(tests)-1] {
		t.Run(tc.name, func(t *testing.T) {
			p := newPerson(t)
			tc.setup(t)
			reply := run(t, p.client, "/account email "+newAddress())
			assertContains(t, reply, tc.wants...)
			assertContains(t, reply, "Nothing was changed")
			assertUnchanged(t, p)
		})
	}
	// A user never linked whose Zulip account hides its address even from
	// the bot cannot be linked by email: the reply says how to link by code.
	t.Run("user hidden from the bot", func(t *testing.T) {
		p := newPerson(t)
		zu, _ := w.Zulip.User(p.zulipID)
		zu.EmailVisibility = zuliptest.VisibilityNobody
		w.Zulip.UpdateUser(zu)
		reply := run(t, p.client, "/account email "+newAddress())
		assertContains(t, reply, notLinkedTexts...)
		assertUnchanged(t, p)
		assertNotLinked(t, p.client)
	})
}

// Scenario 7: Zulip fails only at the real change, after every check passed.
// A clear refusal puts Mattermost back to the old address; an answer that
// may hide a change (a server error) is settled by the job, which reads
// Zulip back and repeats the change.
func TestZulipFailsAtTheChange(t *testing.T) {
	steps := []string{"validate", "check_mattermost", "check_zulip", "apply_mattermost", "sync_zulip"}
	t.Run("refusal", func(t *testing.T) {
		p := newPerson(t)
		newEmail := newAddress()
		// Refuse the change itself.
		withFault(t, zuliptest.Fault{Method: "PATCH", Path: zulipPath(p), Kind: zuliptest.FaultStatus, Status: 400, Times: 1})
		reply := run(t, p.client, "/account email "+newEmail)
		assertContains(t, reply, "Zulip did not take the change, so your Mattermost email was put back to `"+p.email+"`")
		assertUnchanged(t, p)
		assertRecord(t, latestChange(t, p.client), map[string]any{
			"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
			"state": "rolled_back", "mattermost": "rolled_back", "zulip": "untouched", "code": "zulip_refused_address",
		}, append(steps, "rollback_mattermost"), "sync_zulip")
	})
	t.Run("server error, settled by the job", func(t *testing.T) {
		p := newPerson(t)
		newEmail := newAddress()
		withFault(t, zuliptest.Fault{Method: "PATCH", Path: zulipPath(p), Kind: zuliptest.FaultStatus, Status: 500, Times: 1})
		w.Zulip.ResetRequests()
		reply := run(t, p.client, "/account email "+newEmail)
		assertContains(t, reply, "Your Mattermost email is now `"+newEmail+"`", "Zulip did not answer clearly in time", "direct message")
		waitForEmails(t, p, newEmail, newEmail)
		rec := waitForState(t, p.client, "done")
		n := 0
		for _, r := range zulipRequests("PATCH") {
			if r.Path == zulipPath(p) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("Zulip got %d PATCHes of the account, want 2 (failed change, repeat by the job)", n)
		}
		assertRecord(t, rec, map[string]any{
			"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
			"state": "done", "mattermost": "changed", "zulip": "changed",
		}, nil, "")
		waitForBotMessage(t, p, "Your email change is complete")
	})
	t.Run("address taken by a hidden user", func(t *testing.T) {
		p := newPerson(t)
		hidden := randomName("h") + "@example.org"
		w.Zulip.AddUser(zuliptest.User{Email: hidden, FullName: "Hidden", EmailVisibility: zuliptest.VisibilityNobody})
		reply := run(t, p.client, "/account email "+hidden)
		assertContains(t, reply, "put back to `"+p.email+"`", "Another Zulip account already uses")
		assertUnchanged(t, p)
	})
}

// closedAddress returns a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
