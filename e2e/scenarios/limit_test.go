package scenarios

import (
	"context"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// MaxChangesPerUserPerDay counts, over 24 hours, the changes that changed
// something; past it nothing changes. A change waiting for its link is open
// and blocks the next one (unit tests show it also counts once closed).
// System admins are not limited.
func TestDailyLimit(t *testing.T) {
	withSettings(t, map[string]any{"MaxChangesPerUserPerDay": "1"})

	t.Run("second change refused", func(t *testing.T) {
		p := newPerson(t)
		first := newAddress()
		assertContains(t, run(t, p.client, "/account email "+first), "Your email is now `"+first+"` in Mattermost and in Zulip")
		assertEmails(t, p, first, first)

		reply := run(t, p.client, "/account email "+newAddress())

		assertContains(t, reply, "limit of 1 email change", "next change is possible", "Nothing was changed")
		assertEmails(t, p, first, first)
	})

	t.Run("a change waiting for its link stays open", func(t *testing.T) {
		withServerConfig(t,
			func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(true) },
			func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(false) })
		p := newPerson(t)
		assertContains(t, run(t, p.client, "/account email "+newAddress()), "sent a confirmation link")

		reply := run(t, p.client, "/account email "+newAddress())

		assertContains(t, reply, "already have an email change in progress", "`/account status`", "Nothing was changed")
		assertUnchanged(t, p)
	})

	t.Run("system admins are not limited", func(t *testing.T) {
		p := newPerson(t)
		if _, err := w.Bed.Admin.UpdateUserRoles(ctxFor(t), p.user.Id, model.SystemUserRoleId+" "+model.SystemAdminRoleId); err != nil {
			t.Fatalf("making the user a system admin: %v", err)
		}
		t.Cleanup(func() {
			if _, err := w.Bed.Admin.UpdateUserRoles(context.Background(), p.user.Id, model.SystemUserRoleId); err != nil {
				t.Errorf("taking the admin role back: %v", err)
			}
		})
		for i := 0; i < 2; i++ {
			next := newAddress()
			assertContains(t, run(t, p.client, "/account email "+next), "Your email is now `"+next+"` in Mattermost and in Zulip")
			assertEmails(t, p, next, next)
		}
	})
}
