package scenarios

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Scenario 1: the email changes in both systems, the reply says so, the old
// address gets Mattermost's change notice and the change is on record. The
// user's verified email equals their Zulip account's, so the first change
// links the two accounts, and Zulip is changed by the account's id.
func TestHappyPath(t *testing.T) {
	p := newPerson(t)
	newEmail := newAddress()
	assertNotLinked(t, p.client)
	w.Zulip.ResetRequests()

	reply := run(t, p.client, "/account email "+strings.ToUpper(newEmail))

	assertContains(t, reply, "Your email is now `"+newEmail+"` in Mattermost and in Zulip", "it was `"+p.email+"`")
	assertEmails(t, p, newEmail, newEmail)

	notice, err := w.Bed.Mail.WaitFor(ctxFor(t), func(m testbed.Mail) bool {
		return m.SentTo(p.email) && strings.Contains(strings.ToLower(m.Subject), "email")
	})
	if err != nil {
		t.Errorf("the old address got no change notice: %v", err)
	} else if !strings.Contains(notice.Body, newEmail) {
		t.Errorf("the change notice does not name the new address:\n%s", notice.Body)
	}

	assertRecord(t, latestChange(t, p.client), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, []string{"validate", "check_mattermost", "check_zulip", "apply_mattermost", "sync_zulip"}, "")
	assertLinked(t, p.client, p.user.Id, p.zulipID, "verified_email", "")
	if rec, _ := link(t, p.client); rec["agreed_email"] != newEmail {
		t.Errorf("link agreed_email = %v, want %s: both systems agree on it now", rec["agreed_email"], newEmail)
	}

	// What Zulip saw: form-encoded PATCHes as the bot to the account's id,
	// never a JSON body; the only other PATCH is the permission check on the
	// bot's own account, at most once.
	var changes, probes int
	for _, r := range w.Zulip.Requests() {
		if r.Method != "PATCH" {
			continue
		}
		if r.Path == botPath() {
			probes++
		} else {
			changes++
			if want := zulipPath(p); r.Path != want {
				t.Errorf("PATCH %s, want %s (by id)", r.Path, want)
			}
		}
		if r.BodyWasJSON || !strings.HasPrefix(r.ContentType, "application/x-www-form-urlencoded") {
			t.Errorf("PATCH sent %q (json=%v), want a form", r.ContentType, r.BodyWasJSON)
		}
		if r.AuthEmail != botEmail || !strings.HasPrefix(r.UserAgent, "AccountSync/") {
			t.Errorf("PATCH as %q with agent %q", r.AuthEmail, r.UserAgent)
		}
	}
	if changes != 1 || probes > 1 {
		t.Errorf("Zulip got %d PATCHes of the account and %d of the bot, want 1 and at most 1 (the permission check)", changes, probes)
	}

	// A linked user's next change costs Zulip three requests: the linked
	// account (still active, still this address), is the new address free,
	// and the change; what is the same for everyone is remembered.
	w.Zulip.ResetRequests()
	next := newAddress()
	assertContains(t, run(t, p.client, "/account email "+next), "Your email is now `"+next+"` in Mattermost and in Zulip")
	assertEmails(t, p, next, next)
	var got []string
	for _, r := range w.Zulip.Requests() {
		if r.Path == "/api/v1/events" || r.Path == "/api/v1/register" {
			continue // the plugin follows Zulip's events all along
		}
		got = append(got, r.Method+" "+r.Target)
	}
	// The two checks go side by side (either may reach Zulip first), then
	// the change.
	want := []string{"GET " + strconv.Itoa(p.zulipID), "GET " + next, "PATCH " + strconv.Itoa(p.zulipID)}
	if len(got) == 3 && got[0] == want[1] && got[1] == want[0] {
		got[0], got[1] = got[1], got[0]
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("Zulip requests of the second change: %v, want %v in any order, then %s", got, want[:2], want[2])
	}
}

// Scenario 2: addresses that cannot be taken; nothing changes anywhere.
func TestRefusedAddresses(t *testing.T) {
	other := newPerson(t)
	zulipOnly := randomName("z") + "@example.org"
	w.Zulip.AddUser(zuliptestUser(zulipOnly))

	tests := []struct {
		name  string
		arg   func(p person) string
		wants []string
	}{
		{"another Mattermost user's address", func(person) string { return other.email }, []string{"Another Mattermost account already uses", "Nothing was changed"}},
		{"another Zulip user's address", func(person) string { return zulipOnly }, []string{"Another Zulip account already uses", "Nothing was changed"}},
		{"invalid", func(person) string { return "not-an-address" }, []string{"is not a valid email address", "Nothing was changed"}},
		{"display name form", func(person) string { return "Ann<ann@example.org>" }, []string{"is not a valid email address"}},
		{"the same address", func(p person) string { return p.email }, []string{"Your email already is `" + "%s" + "`"}},
		{"the same address in other letters", func(p person) string { return strings.ToUpper(p.email) }, []string{"Your email already is"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPerson(t)
			reply := run(t, p.client, "/account email "+tc.arg(p))
			for _, want := range tc.wants {
				assertContains(t, reply, strings.ReplaceAll(want, "%s", p.email))
			}
			assertUnchanged(t, p)
		})
	}
	assertEmails(t, other, other.email, other.email)
}

// Scenario 3: with verification required nothing changes until the link is
// followed; then Mattermost has the new address, and the background job
// brings Zulip along and tells the user.
func TestVerificationRequired(t *testing.T) {
	withServerConfig(t,
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(true) },
		func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(false) })
	p := newPerson(t)
	newEmail := newAddress()
	seen := w.Bed.Mail.Count()

	reply := run(t, p.client, "/account email "+newEmail)

	assertContains(t, reply, "sent a confirmation link to `"+newEmail+"`", "stays `"+p.email+"`", "Once you open it, Account Sync changes Zulip too")
	assertUnchanged(t, p)

	mail, err := w.Bed.Mail.WaitForAfter(ctxFor(t), seen, func(m testbed.Mail) bool { return m.SentTo(newEmail) })
	if err != nil {
		t.Fatalf("no verification mail to the new address: %v", err)
	}
	m := regexp.MustCompile(`token=([A-Za-z0-9]+)`).FindStringSubmatch(mail.Body + mail.HTML)
	if m == nil {
		t.Fatalf("no token in the verification mail:\n%s", mail.Body)
	}
	assertUnchanged(t, p) // still nothing before the link is followed

	if _, err := w.Bed.NewClient().VerifyUserEmail(ctxFor(t), m[1]); err != nil {
		t.Fatalf("following the verification link: %v", err)
	}
	// The job sees the confirmed address and brings Zulip along.
	waitForEmails(t, p, newEmail, newEmail)
	assertRecord(t, waitForState(t, p.client, "done"), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, []string{"validate", "check_mattermost", "check_zulip", "apply_mattermost", "verified", "sync_zulip"}, "")
	waitForBotMessage(t, p, "Your email change is complete", "`"+newEmail+"` in Mattermost and in Zulip")
}

// Scenario 4: an address outside the allowed domains is refused with the reason.
func TestRestrictedDomains(t *testing.T) {
	withServerConfig(t,
		func(c *model.Config) { c.TeamSettings.RestrictCreationToDomains = model.NewPointer("example.org") },
		func(c *model.Config) { c.TeamSettings.RestrictCreationToDomains = model.NewPointer("") })
	p := newPerson(t)

	reply := run(t, p.client, "/account email "+randomName("x")+"@elsewhere.net")

	assertContains(t, reply, "only accepts email addresses from certain domains", "Nothing was changed")
	assertUnchanged(t, p)

	// An address inside the allowed domain still works.
	inside := newAddress()
	run(t, p.client, "/account email "+inside)
	assertEmails(t, p, inside, inside)
}

// Scenario 5: a user whose sign-in is managed by SSO is refused.
func TestSSOUserRefused(t *testing.T) {
	p := newPerson(t)
	if _, _, err := w.Bed.Admin.UpdateUserAuth(ctxFor(t), p.user.Id, &model.UserAuth{AuthService: model.UserAuthServiceGitlab, AuthData: model.NewPointer(randomName("gl"))}); err != nil {
		t.Fatalf("switching the user to GitLab: %v", err)
	}

	reply := run(t, p.client, "/account email "+newAddress())

	assertContains(t, reply, "signs in with GitLab", "Change it there", "Nothing was changed")
	assertUnchanged(t, p)
}

// Scenario 9: with sync switched off only Mattermost changes.
func TestSyncSwitchedOff(t *testing.T) {
	withSettings(t, map[string]any{"ZulipSyncEnabled": false})
	p := newPerson(t)
	newEmail := newAddress()
	w.Zulip.ResetRequests()

	reply := run(t, p.client, "/account email "+newEmail)

	assertContains(t, reply, "Your email is now `"+newEmail+"` in Mattermost", "Zulip sync is turned off")
	assertEmails(t, p, newEmail, p.email)
	for _, r := range w.Zulip.Requests() {
		if r.Path != "/api/v1/events" { // a long poll begun before sync went off may end now
			t.Errorf("Zulip got %s %s with sync off", r.Method, r.Path)
		}
	}
}

// Scenario 10: bad commands get help or a clear error and change nothing.
func TestBadInput(t *testing.T) {
	p := newPerson(t)
	tests := []struct {
		name, command string
		wants         []string
		absent        []string
	}{
		{"unknown subcommand", "/account frobnicate", []string{"#### Account Sync", "/account email <new-address>"}, nil},
		{"no subcommand", "/account", []string{"#### Account Sync"}, nil},
		{"no argument", "/account email", []string{"Please give exactly one new address"}, nil},
		{"two arguments", "/account email a@example.org b@example.org", []string{"Please give exactly one new address"}, nil},
		{"1000 characters", "/account email " + strings.Repeat("a", 988) + "@example.org", []string{"too long", "Nothing was changed"}, nil},
		{"markdown link injection", "/account email [click](http://evil.example.net)@example.org", []string{"`[click](http://evil.example.net)@example.org` is not a valid email address"}, nil},
		{"mention injection", "/account email @channel", []string{"`@channel` is not a valid email address"}, nil},
		{"backtick escape attempt", "/account email `**x**`@example.org", []string{"is not a valid email address"}, []string{"`**x**`@"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := run(t, p.client, tc.command)
			assertContains(t, reply, tc.wants...)
			for _, a := range tc.absent {
				if strings.Contains(reply, a) {
					t.Errorf("reply shows %q unescaped:\n%s", a, reply)
				}
			}
			assertUnchanged(t, p)
		})
	}
}

// The Zulip API key (alone or as Basic credentials) and one-time link codes
// never show up in any log the suite keeps.
func TestSecretNeverLogged(t *testing.T) {
	// Provoke the failures most likely to log details first: a wrong key,
	// a redirect (a proxy echoing the request would hold the credentials),
	// and a link code sent and then mistyped.
	p := newPerson(t)
	t.Run("wrong key", func(t *testing.T) {
		withSettings(t, map[string]any{"ZulipAPIKey": w.BotKey + "-wrong"})
		run(t, p.client, "/account email "+newAddress())
		assertUnchanged(t, p)
	})
	t.Run("redirect", func(t *testing.T) {
		target := newRecordingServer(t)
		withFault(t, zuliptest.Fault{Kind: zuliptest.FaultRedirect, Status: 307, Location: target.URL + "/api/v1/users"})
		run(t, p.client, "/account email "+newAddress())
		assertUnchanged(t, p)
		if n := target.hits(); n != 0 {
			t.Errorf("the redirect target got %d requests", n)
		}
	})
	var code, linker string
	t.Run("link code", func(t *testing.T) {
		zu := w.Zulip.AddUser(zuliptestUser(randomName("z") + "@example.org"))
		u, c := newMMUser(t, "u", newAddress())
		linker = u.Id
		w.Zulip.ResetDirectMessages()
		assertContains(t, run(t, c, "/account link "+zu.Email), "sent a direct message with a 6-digit code")
		code = linkCodeSentTo(t, zu.ID)
		assertContains(t, run(t, c, "/account link "+otherCode(code)), "That code is not right")
		assertNotLinked(t, c)
	})

	basic := base64.StdEncoding.EncodeToString([]byte(botEmail + ":" + w.BotKey))
	for name, secret := range map[string]string{"the API key": w.BotKey, "the wrong API key": w.BotKey + "-wrong", "the Basic credentials": basic} {
		if file, ok := findInLogs(t, secret); ok {
			t.Errorf("%s appears in %s", name, file)
		}
	}
	if code != "" {
		// Wait for the log to hold the link's own lines, then look for the code.
		if _, ok := waitForLogLine(t, func(l string) bool { return strings.Contains(l, linker) && strings.Contains(l, "wrong") }); !ok {
			t.Log("no log line about the wrong code (the check below still runs)")
		}
		re := regexp.MustCompile(`(^|[^0-9])` + code + `([^0-9]|$)`)
		if file, ok := findInLogsFunc(t, re.MatchString); ok {
			t.Errorf("the link code appears in %s", file)
		}
	}
}
