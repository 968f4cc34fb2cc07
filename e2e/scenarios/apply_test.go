package scenarios

import (
	"net/http"
	"strings"
	"testing"
)

// Issue 15, apply mode: an address changed in Zulip's own settings is made
// in Mattermost without asking; the user is told; Zulip is not changed
// again; an address Mattermost cannot take is told once and nothing
// changes. Report mode: nothing offered nor applied, the drift report lists
// the pair.
func TestZulipChangesElsewhereModes(t *testing.T) {
	t.Run("apply", func(t *testing.T) {
		withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1", "ZulipChangesElsewhere": "apply"})
		p := newLinkedPerson(t, "ap")
		w.Zulip.ResetRequests()
		inZulip := newAddress()
		w.Zulip.ChangeEmailInSettings(p.zulipID, inZulip)

		waitForEmails(t, p, inZulip, inZulip)
		var rec map[string]any
		if !eventually(func() bool {
			rec = latestChange(t, p.client)
			return rec["origin"] == "zulip_elsewhere" && rec["state"] == "done"
		}) {
			t.Fatalf("the latest change is %v, want an applied one, done", rec)
		}
		assertRecord(t, rec, map[string]any{
			"user_id": p.user.Id, "origin": "zulip_elsewhere", "old_email": p.email, "new_email": inZulip, "zulip_user_id": p.zulipID,
			"state": "done", "mattermost": "changed", "zulip": "changed",
		}, nil, "")
		if _, ok := rec["requested_by"]; ok {
			t.Errorf("an applied change names who asked: %v", rec["requested_by"])
		}
		if l, _ := link(t, p.client); l["agreed_email"] != inZulip {
			t.Errorf("agreed %v, want %s", l["agreed_email"], inZulip)
		}
		for _, r := range zulipRequests(http.MethodPatch) {
			if r.Path == zulipPath(p) {
				t.Errorf("Zulip was changed again: PATCH %s %v", r.Path, r.Form)
			}
		}
		waitForBotMessage(t, p, "Your Zulip email was changed to `"+inZulip+"` outside Account Sync", "your Mattermost email is now `"+inZulip+"` as well")
		waitForScans(t, 2)
		if n := botMessagesWith(t, p, "outside Account Sync"); n != 1 {
			t.Errorf("%d direct messages about the change, want 1", n)
		}
		if n := botMessagesWith(t, p, "Use it in Mattermost too"); n != 0 {
			t.Errorf("offered in apply mode")
		}
	})

	t.Run("apply: an address another Mattermost account has", func(t *testing.T) {
		withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1", "ZulipChangesElsewhere": "apply"})
		p := newLinkedPerson(t, "ap")
		before := latestChange(t, p.client)
		taken := newAddress()
		newMMUser(t, "holder", taken)
		w.Zulip.ChangeEmailInSettings(p.zulipID, taken)

		waitForBotMessage(t, p, "Your Zulip email was changed to `"+taken+"` outside Account Sync", "could not use it in Mattermost",
			"Your Mattermost email stays `"+p.email+"`", "the two now differ")
		waitForScans(t, 3)
		assertEmails(t, p, p.email, taken)
		if n := botMessagesWith(t, p, "could not use it in Mattermost"); n != 1 {
			t.Errorf("told %d times, want once", n)
		}
		if rec := latestChange(t, p.client); rec["id"] != before["id"] {
			t.Errorf("a refused change was recorded: %v", rec)
		}
		if l, _ := link(t, p.client); l["agreed_email"] != p.email {
			t.Errorf("agreed %v, want %s", l["agreed_email"], p.email)
		}
	})

	t.Run("report", func(t *testing.T) {
		withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1", "ZulipChangesElsewhere": "report"})
		p := newLinkedPerson(t, "aa") // "aa": among the first rows of the drift reply
		before := latestChange(t, p.client)
		inZulip := newAddress()
		w.Zulip.ChangeEmailInSettings(p.zulipID, inZulip)
		w.Zulip.ResetRequests()
		waitForScans(t, 3)
		assertEmails(t, p, p.email, inZulip)
		if rec := latestChange(t, p.client); rec["id"] != before["id"] {
			t.Errorf("a change was recorded: %v", rec)
		}
		if n := botMessagesWith(t, p, "outside Account Sync"); n != 0 {
			t.Errorf("%d direct messages about the change, want none", n)
		}
		line := "@" + p.user.Username + ": Mattermost `" + p.email + "`"
		reply := run(t, w.Bed.Admin, "/account drift")
		found := false
		for _, l := range strings.Split(reply, "\n") {
			found = found || strings.Contains(l, line) && strings.Contains(l, inZulip)
		}
		if !found {
			t.Errorf("the drift reply has no line for %s with %s:\n%s", line, inZulip, reply)
		}
	})
}
