package scenarios

import (
	"strings"
	"testing"
)

// A plugin setting that cannot work is refused when the admin saves it,
// with a message, and the working settings stay.
func TestInvalidSettingsAreRefusedAtSave(t *testing.T) {
	t.Cleanup(func() { _ = w.Configure(ctxFor(t), nil) })
	for name, override := range map[string]map[string]any{
		"plain http URL":    {"ZulipURL": "http://zulip.example.org"},
		"no API key":        {"ZulipAPIKey": ""},
		"malformed domains": {"AllowedDomains": "example.org, not a domain"},
	} {
		t.Run(name, func(t *testing.T) {
			err := w.Configure(ctxFor(t), override)
			if err == nil || !strings.Contains(err.Error(), "Account Sync settings not saved") {
				t.Fatalf("saving %v: %v, want a refusal naming Account Sync", override, err)
			}
			p := newPerson(t)
			next := newAddress()
			assertContains(t, run(t, p.client, "/account email "+next), "Your email is now `"+next+"` in Mattermost and in Zulip")
		})
	}
}

// Allowed domains refuse other addresses before anything changes.
func TestAllowedDomains(t *testing.T) {
	withSettings(t, map[string]any{"AllowedDomains": "example.org"})
	p := newPerson(t)
	assertContains(t, run(t, p.client, "/account email "+randomName("x")+"@elsewhere.net"), "only accepts email addresses from certain domains", "Nothing was changed")
	assertUnchanged(t, p)
	next := newAddress()
	assertContains(t, run(t, p.client, "/account email "+next), "Your email is now `"+next+"`")
}

// Every request and outcome is one audit line in the server log, naming the
// actor, the user, both addresses, the outcome and the change.
func TestAuditLine(t *testing.T) {
	p := newPerson(t)
	next := newAddress()
	run(t, p.client, "/account email "+next)
	rec := latestChange(t, p.client)
	id, _ := rec["id"].(string)
	line, ok := waitForLogLine(t, func(l string) bool {
		return strings.Contains(l, "account sync audit: email change") && strings.Contains(l, "change_id="+id)
	})
	if !ok {
		t.Fatalf("no audit line for change %s in mattermost.log", id)
	}
	for _, want := range []string{"actor_id=" + p.user.Id, "user_id=" + p.user.Id, "old_email=" + p.email, "new_email=" + next, "outcome=done"} {
		if !strings.Contains(line, want) {
			t.Errorf("audit line lacks %q: %s", want, line)
		}
	}
}
