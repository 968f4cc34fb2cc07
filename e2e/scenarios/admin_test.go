package scenarios

import (
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// A system admin changes another user's email by command; the user gets a
// direct message saying who. Other users are refused.
func TestAdminCommands(t *testing.T) {
	p := newPerson(t)
	other := newPerson(t)
	newEmail := newAddress()

	assertContains(t, run(t, other.client, "/account email @"+p.user.Username+" "+newEmail), "Only system administrators", "Nothing was changed")
	assertContains(t, run(t, other.client, "/account status @"+p.user.Username), "Only system administrators")
	assertUnchanged(t, p)

	reply := run(t, w.Bed.Admin, "/account email @"+p.user.Username+" "+newEmail)
	assertContains(t, reply, "The email of `@"+p.user.Username+"` is now `"+newEmail+"` in Mattermost and in Zulip", "direct message")
	assertEmails(t, p, newEmail, newEmail)
	assertRecord(t, latestChange(t, p.client), map[string]any{
		"user_id": p.user.Id, "requested_by": w.Bed.AdminUser.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, nil, "")
	waitForBotMessage(t, p, "`@"+w.Bed.AdminUser.Username+"`, a system administrator, asked to change your email to `"+newEmail+"`")

	assertContains(t, run(t, w.Bed.Admin, "/account status @"+p.user.Username), "`@"+p.user.Username+"`:", "complete", "`"+newEmail+"`")
	assertContains(t, run(t, w.Bed.Admin, "/account email @nobody-"+randomName("x")+" "+newAddress()), "There is no Mattermost user")
}

// /account zulip check says what works and what to fix.
func TestZulipCheck(t *testing.T) {
	assertContains(t, run(t, newPerson(t).client, "/account zulip check"), "Only system administrators")

	reply := run(t, w.Bed.Admin, "/account zulip check")
	assertContains(t, reply, "Reached Zulip", "Signed in to Zulip as `"+botEmail+"`", "may change users' emails", "Everything needed to change emails in Zulip works")

	t.Run("bot without the permission", func(t *testing.T) {
		withBot(t, func(b *zuliptest.User) { b.CanChangeUserEmails = false })
		reply := run(t, w.Bed.Admin, "/account zulip check")
		assertContains(t, reply, ":x:", "`./manage.py change_user_role "+botEmail+" can_change_user_emails")
	})
	t.Run("bot a member", func(t *testing.T) {
		withBot(t, func(b *zuliptest.User) { b.Role = zuliptest.RoleMember })
		assertContains(t, run(t, w.Bed.Admin, "/account zulip check"), ":x: The bot's role is Member")
	})
	t.Run("wrong key", func(t *testing.T) {
		withSettings(t, map[string]any{"ZulipAPIKey": w.BotKey + "-wrong"})
		assertContains(t, run(t, w.Bed.Admin, "/account zulip check"), ":x: Zulip did not accept the bot email and API key")
	})
}
