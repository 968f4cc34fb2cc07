package scenarios

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// A user whose Mattermost and Zulip addresses differ links the two with a
// code the sync bot sends in Zulip, then changes the email of exactly that
// Zulip account; /account unlink removes the link again.
func TestLinkByCode(t *testing.T) {
	zulipAddr := randomName("z") + "@example.org"
	zu := w.Zulip.AddUser(zuliptest.User{Email: zulipAddr, FullName: "Linker"})
	mmAddr := newAddress()
	u, c := newMMUser(t, "u", mmAddr)
	p := person{user: u, client: c, zulipID: zu.ID, email: mmAddr}

	// Not linked: nothing changes, and the reply says how to link.
	w.Zulip.ResetRequests()
	reply := run(t, c, "/account email "+newAddress())
	assertContains(t, reply, notLinkedTexts...)
	assertEmails(t, p, mmAddr, zulipAddr)
	assertNoZulipChange(t)
	assertNotLinked(t, c)

	// Ask for a code: it goes to that Zulip account only.
	w.Zulip.ResetDirectMessages()
	reply = run(t, c, "/account link "+zulipAddr)
	assertContains(t, reply, "sent a direct message with a 6-digit code")
	code := linkCodeSentTo(t, zu.ID)
	assertNotLinked(t, c)

	// A wrong code links nothing.
	reply = run(t, c, "/account link "+otherCode(code))
	assertContains(t, reply, "That code is not right")
	assertNotLinked(t, c)

	// The code is worth nothing to another Mattermost user.
	_, oc := newMMUser(t, "u", newAddress())
	run(t, oc, "/account link "+code)
	assertNotLinked(t, oc)

	// The right code links the accounts.
	reply = run(t, c, "/account link "+code)
	assertContains(t, reply, "is now linked to the Zulip account")
	assertLinked(t, c, u.Id, zu.ID, "code", "")

	// Now the change reaches that Zulip account, whose address differed.
	newEmail := newAddress()
	reply = run(t, c, "/account email "+newEmail)
	assertContains(t, reply, "Your email is now `"+newEmail+"` in Mattermost and in Zulip (it was `"+mmAddr+"`)")
	assertEmails(t, p, newEmail, newEmail)

	// Unlinked, the user is back to "not linked" (Mattermost does not call
	// the changed email verified, so it does not link again by itself).
	reply = run(t, c, "/account unlink")
	assertContains(t, reply, "is no longer linked to the Zulip account")
	assertNotLinked(t, c)
	w.Zulip.ResetRequests()
	reply = run(t, c, "/account email "+newAddress())
	assertContains(t, reply, notLinkedTexts...)
	assertEmails(t, p, newEmail, newEmail)
	assertNoZulipChange(t)
}

var linkedCount = regexp.MustCompile(`^Linked ([0-9]+) accounts?\.`)

// /account link-all, for system admins only, links every Mattermost user
// whose verified email (any email with "unverified") is the real address of
// an active human Zulip account, and lists the others with the reason.
func TestLinkAll(t *testing.T) {
	// Usernames start with "aa" so they sort before every other user and
	// are among the skipped lines the reply shows (at most 50).
	matchAddr := randomName("m") + "@example.org"
	matchU, matchC := newMMUser(t, "aa", newAddress())
	if u := setEmailAsAdmin(t, matchC, matchAddr); u.EmailVerified {
		t.Fatalf("the email set by the admin is verified; want it unverified")
	}
	matchZ := w.Zulip.AddUser(zuliptest.User{Email: matchAddr, FullName: "Match"})

	noZulipU, noZulipC := newMMUser(t, "aa", newAddress())

	botAddr := randomName("bot") + "@example.org"
	botZ := w.Zulip.AddUser(zuliptest.User{Email: botAddr, FullName: "Some bot", IsBot: true})
	botU, botC := newMMUser(t, "aa", botAddr)

	goneAddr := randomName("gone") + "@example.org"
	goneZ := w.Zulip.AddUser(zuliptest.User{Email: goneAddr, FullName: "Gone", Deactivated: true})
	goneU, goneC := newMMUser(t, "aa", goneAddr)

	// A Zulip account someone else already linked by code.
	takenAddr := randomName("taken") + "@example.org"
	takenZ := w.Zulip.AddUser(zuliptest.User{Email: takenAddr, FullName: "Taken"})
	ownerU, ownerC := newMMUser(t, "aa", newAddress())
	linkByCode(t, ownerC, takenAddr, takenZ.ID)
	takenU, takenC := newMMUser(t, "aa", takenAddr)

	// Not for everyone.
	reply := run(t, matchC, "/account link-all")
	assertContains(t, reply, "Only system administrators can run")
	assertNotLinked(t, matchC)

	// An email the admin set is not verified in Mattermost: by default it
	// proves nothing (a user could have typed it into their own profile).
	reply = run(t, w.Bed.Admin, "/account link-all")
	assertContains(t, reply, "not verified in Mattermost", "`/account link-all unverified`")
	if line := skippedLine(reply, matchU.Username); !strings.Contains(line, "email not verified in Mattermost") {
		t.Errorf("skipped line for the unverified match = %q", line)
	}
	assertNotLinked(t, matchC)

	// The admin vouches for the directory's emails.
	reply = run(t, w.Bed.Admin, "/account link-all unverified")
	assertContains(t, reply, "Unverified Mattermost emails were trusted")

	if m := linkedCount.FindStringSubmatch(reply); m == nil {
		t.Errorf("reply does not start with \"Linked N account(s).\":\n%s", reply)
	} else if n, _ := strconv.Atoi(m[1]); n < 1 {
		t.Errorf("reply says %s linked, want at least 1", m[1])
	}
	assertLinked(t, matchC, matchU.Id, matchZ.ID, "admin", w.Bed.AdminUser.Id)
	assertLinked(t, ownerC, ownerU.Id, takenZ.ID, "code", "") // existing links stay
	for _, c := range []*model.Client4{noZulipC, botC, goneC, takenC} {
		assertNotLinked(t, c)
	}
	for _, s := range []struct {
		user   *model.User
		reason string
	}{
		{noZulipU, "no active Zulip account with this address"},
		{botU, "the Zulip account is a bot"},
		{goneU, "the Zulip account is deactivated"},
		{takenU, "already linked to another Mattermost user"},
	} {
		line := skippedLine(reply, s.user.Username)
		if line == "" {
			t.Errorf("no skipped line for @%s in the reply", s.user.Username)
			continue
		}
		if prefix := "- @" + s.user.Username + " (`" + s.user.Email + "`): "; !strings.HasPrefix(line, prefix) || !strings.Contains(line, s.reason) {
			t.Errorf("skipped line %q, want %q followed by a reason with %q", line, prefix, s.reason)
		}
	}
	if skippedLine(reply, matchU.Username) != "" || skippedLine(reply, ownerU.Username) != "" {
		t.Errorf("a linked user is listed as skipped:\n%s", reply)
	}
	for _, z := range []zuliptest.User{matchZ, botZ, goneZ, takenZ} {
		assertZulipUntouched(t, z)
	}

	// The linked user can now change their email in both systems.
	newEmail := newAddress()
	assertContains(t, run(t, matchC, "/account email "+newEmail), "Your email is now `"+newEmail+"` in Mattermost and in Zulip")
	assertEmails(t, person{user: matchU, zulipID: matchZ.ID}, newEmail, newEmail)
}

// skippedLine finds the reply's skipped line for @username, "" if none.
func skippedLine(reply, username string) string {
	for _, line := range strings.Split(reply, "\n") {
		if strings.HasPrefix(line, "- @"+username+" ") {
			return line
		}
	}
	return ""
}
