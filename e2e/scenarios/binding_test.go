package scenarios

import (
	"context"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// newZulipOwner adds a Zulip-only organisation owner (no Mattermost
// account): the account an attacker would most like to take over.
func newZulipOwner(t *testing.T, visibility zuliptest.Visibility) zuliptest.User {
	t.Helper()
	return w.Zulip.AddUser(zuliptest.User{
		Email: randomName("owner") + "@example.org", FullName: "The Owner",
		Role: zuliptest.RoleOwner, EmailVisibility: visibility,
	})
}

// moveAwayLater gives the user a fresh address at the end of the test, so
// that no later test (link-all) finds it holding someone else's address.
func moveAwayLater(t *testing.T, userID string) {
	t.Helper()
	t.Cleanup(func() {
		if _, _, err := w.Bed.Admin.PatchUser(context.Background(), userID, &model.UserPatch{Email: model.NewPointer(newAddress())}); err != nil {
			t.Errorf("giving user %s a fresh address: %v", userID, err)
		}
	})
}

// Takeover attempt A: the attacker changes their own Mattermost email (with
// their password, as Mattermost asks) to a Zulip-only owner's address, then
// asks for an email change. Mattermost marks that email unverified, so it
// proves nothing: the attacker is not linked to any Zulip account and no
// Zulip account is changed.
func TestTakeoverBySelfChangedEmail(t *testing.T) {
	victim := newZulipOwner(t, zuliptest.VisibilityEveryone)
	attacker := newPerson(t)
	ownZulip := zulipUser(t, attacker.zulipID)
	pw := w.Bed.Password(attacker.user.Username)
	if pw == "" {
		t.Fatal("the test bed does not know the attacker's password")
	}
	if _, _, err := attacker.client.PatchUser(ctxFor(t), attacker.user.Id, &model.UserPatch{Email: model.NewPointer(victim.Email), Password: model.NewPointer(pw)}); err != nil {
		t.Fatalf("the attacker changing their own email through the REST API: %v", err)
	}
	moveAwayLater(t, attacker.user.Id)
	// The premise: Mattermost took the address but no longer calls it verified.
	if u := mmSelf(t, attacker.client); u.Email != victim.Email || u.EmailVerified {
		t.Fatalf("after the self-change Mattermost has %s verified=%v, want %s unverified", u.Email, u.EmailVerified, victim.Email)
	}
	w.Zulip.ResetRequests()

	reply := run(t, attacker.client, "/account email "+newAddress())

	assertContains(t, reply, notLinkedTexts...)
	if got := mmEmail(t, attacker.user.Id); got != victim.Email {
		t.Errorf("Mattermost email = %s, want %s (unchanged)", got, victim.Email)
	}
	assertZulipUntouched(t, victim)
	assertZulipUntouched(t, ownZulip)
	assertNoZulipChange(t)
	// The attacker is the only Mattermost user who could have been linked
	// to the victim's account.
	assertNotLinked(t, attacker.client)

	// And the victim's account is still free: once the attacker is gone
	// from that address, its real owner (verified in Mattermost) links it
	// on their first change.
	setEmailAsAdmin(t, attacker.client, newAddress())
	owner, ownerC := newMMUser(t, "u", victim.Email)
	next := newAddress()
	assertContains(t, run(t, ownerC, "/account email "+next), "Your email is now `"+next+"` in Mattermost and in Zulip")
	assertLinked(t, ownerC, owner.Id, victim.ID, "verified_email", "")
}

// Takeover attempt B: an admin sets the attacker's Mattermost email to the
// victim's id-based Zulip address user{ID}@host (which Zulip resolves to the
// victim) and marks it verified. That address is not the victim's real one,
// so it proves nothing either, whether or not Zulip shows the real one.
func TestTakeoverByDummyAddress(t *testing.T) {
	for _, tc := range []struct {
		name       string
		visibility zuliptest.Visibility
	}{
		{"victim's address visible", zuliptest.VisibilityEveryone},
		{"victim's address hidden", zuliptest.VisibilityNobody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			victim := newZulipOwner(t, tc.visibility)
			attacker := newPerson(t)
			ownZulip := zulipUser(t, attacker.zulipID)
			dummy := w.Zulip.DummyEmail(victim.ID)
			setEmailAsAdmin(t, attacker.client, dummy)
			moveAwayLater(t, attacker.user.Id)
			if u := verifyAsAdmin(t, attacker.client); u.Email != dummy || !u.EmailVerified {
				t.Fatalf("Mattermost has %s verified=%v, want %s verified", u.Email, u.EmailVerified, dummy)
			}
			w.Zulip.ResetRequests()

			reply := run(t, attacker.client, "/account email "+newAddress())

			assertContains(t, reply, notLinkedTexts...)
			if got := mmEmail(t, attacker.user.Id); got != dummy {
				t.Errorf("Mattermost email = %s, want %s (unchanged)", got, dummy)
			}
			assertZulipUntouched(t, victim)
			assertZulipUntouched(t, ownZulip)
			assertNoZulipChange(t)
			assertNotLinked(t, attacker.client)
		})
	}
}

// Once linked, the link decides: when an admin later gives the user the
// (verified) address of another Zulip account, the change is refused,
// neither Zulip account changes, and the server log names both accounts.
func TestLinkedAccountMismatch(t *testing.T) {
	p := newPerson(t)
	first := newAddress()
	assertContains(t, run(t, p.client, "/account email "+first), "Your email is now `"+first+"` in Mattermost and in Zulip")
	assertLinked(t, p.client, p.user.Id, p.zulipID, "verified_email", "")

	other := w.Zulip.AddUser(zuliptestUser(randomName("other") + "@example.org"))
	setEmailAsAdmin(t, p.client, other.Email)
	moveAwayLater(t, p.user.Id)
	if u := verifyAsAdmin(t, p.client); u.Email != other.Email || !u.EmailVerified {
		t.Fatalf("Mattermost has %s verified=%v, want %s verified", u.Email, u.EmailVerified, other.Email)
	}
	own := zulipUser(t, p.zulipID)
	w.Zulip.ResetRequests()

	reply := run(t, p.client, "/account email "+newAddress())

	assertContains(t, reply, "belongs to a different Zulip account", "Nothing was changed")
	if got := mmEmail(t, p.user.Id); got != other.Email {
		t.Errorf("Mattermost email = %s, want %s (unchanged)", got, other.Email)
	}
	assertZulipUntouched(t, own)
	assertZulipUntouched(t, other)
	assertNoZulipChange(t)
	assertLinked(t, p.client, p.user.Id, p.zulipID, "verified_email", "")
	line, ok := waitForLogLine(t, func(l string) bool {
		return strings.HasPrefix(l, "warn") && strings.Contains(l, p.user.Id) && logNames(l, p.zulipID) && logNames(l, other.ID)
	})
	if !ok {
		t.Errorf("mattermost.log has no warning about user %s naming Zulip users %d and %d", p.user.Id, p.zulipID, other.ID)
	} else {
		t.Logf("log: %s", line)
	}
}

// A linked user whose Zulip account later hides its address from everyone
// (the bot included) still changes their email: the plugin addresses the
// linked account by its id and needs no address lookup.
func TestLinkedUserHiddenFromTheBot(t *testing.T) {
	p := newPerson(t)
	first := newAddress()
	assertContains(t, run(t, p.client, "/account email "+first), "Your email is now `"+first+"` in Mattermost and in Zulip")
	assertLinked(t, p.client, p.user.Id, p.zulipID, "verified_email", "")
	zu := zulipUser(t, p.zulipID)
	zu.EmailVisibility = zuliptest.VisibilityNobody
	w.Zulip.UpdateUser(zu)

	second := newAddress()
	reply := run(t, p.client, "/account email "+second)

	assertContains(t, reply, "Your email is now `"+second+"` in Mattermost and in Zulip")
	assertEmails(t, p, second, second)
}
