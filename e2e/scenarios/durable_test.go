package scenarios

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Zulip unreachable before anything changed: the change is saved, nothing
// changes, and once Zulip is back the background job makes it in both
// systems and the bot tells the user.
func TestZulipUnreachableChangeIsMadeLater(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T)
	}{
		{"server down", func(t *testing.T) {
			withSettings(t, map[string]any{"ZulipURL": "http://" + closedAddress(t)})
		}},
		{"connection dropped", func(t *testing.T) { withFault(t, zuliptest.Fault{Kind: zuliptest.FaultDown}) }},
		{"server answering 500", func(t *testing.T) { withFault(t, zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 500}) }},
		{"server too slow", func(t *testing.T) { withFault(t, zuliptest.Fault{Kind: zuliptest.FaultSlow, Delay: 8 * time.Second}) }},
		{"malformed answers", func(t *testing.T) { withFault(t, zuliptest.Fault{Kind: zuliptest.FaultMalformed}) }},
		{"rate limited with a fractional Retry-After", func(t *testing.T) {
			withFault(t, zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 429, Delay: 1500 * time.Millisecond})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPerson(t)
			newEmail := newAddress()
			t.Run("while Zulip fails", func(t *testing.T) {
				tc.setup(t) // undone when this subtest ends: Zulip is back
				reply := run(t, p.client, "/account email "+newEmail)
				assertContains(t, reply, "right now, so nothing was changed yet", "Your change to `"+newEmail+"` is saved",
					"in both systems or not at all", "direct message", "`/account cancel`")
				assertUnchanged(t, p)
				rec := latestChange(t, p.client)
				if rec["state"] != "waiting_for_zulip" && rec["state"] != "done" { // done: the job beat us to it after a 429
					t.Errorf("record state %v, want waiting_for_zulip", rec["state"])
				}
				if rec["state"] == "waiting_for_zulip" {
					le, _ := rec["last_error"].(map[string]any)
					if le["code"] != "zulip_unavailable" && le["code"] != "zulip_rate_limited" || rec["next_attempt_at"] == nil || rec["give_up_at"] == nil {
						t.Errorf("record %v: want a last error, a next attempt and a give-up time", rec)
					}
					status := run(t, p.client, "/account status")
					assertContains(t, status, "`"+newEmail+"` is saved and waits for Zulip", "Nothing has changed yet", "Next try")
				}
			})
			waitForEmails(t, p, newEmail, newEmail)
			rec := waitForState(t, p.client, "done")
			if n, _ := rec["attempts"].(float64); n < 1 {
				t.Errorf("record attempts = %v, want at least 1", rec["attempts"])
			}
			assertRecord(t, rec, map[string]any{
				"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
				"state": "done", "mattermost": "changed", "zulip": "changed",
			}, nil, "")
			waitForBotMessage(t, p, "Your email change is complete", "`"+newEmail+"` in Mattermost and in Zulip")
		})
	}
}

// Zulip answers 429 with a fractional Retry-After to the change itself,
// after Mattermost changed: Mattermost keeps the address, and the job
// brings Zulip along once the wait is over.
func TestZulipRateLimitAfterMattermostChanged(t *testing.T) {
	p := newPerson(t)
	newEmail := newAddress()
	// The change itself is limited, more often than the client waits out.
	withFault(t, zuliptest.Fault{Method: "PATCH", Path: zulipPath(p), Kind: zuliptest.FaultStatus, Status: 429, Delay: 1500 * time.Millisecond, Times: 5})

	reply := run(t, p.client, "/account email "+newEmail)

	assertContains(t, reply, "Your Mattermost email is now `"+newEmail+"`", "Zulip did not take it yet", "direct message")
	if got := mmEmail(t, p.user.Id); got != newEmail {
		t.Errorf("Mattermost email = %s, want %s", got, newEmail)
	}
	waitForEmails(t, p, newEmail, newEmail)
	assertRecord(t, waitForState(t, p.client, "done"), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, nil, "")
	waitForBotMessage(t, p, "Your email change is complete")
}

// Zulip refuses for good when the job brings it along after Mattermost
// changed: Mattermost is put back and the bot says why.
func TestPermanentRefusalAfterMattermostChanged(t *testing.T) {
	p := newPerson(t)
	newEmail := newAddress()
	withFault(t, zuliptest.Fault{Method: "PATCH", Path: zulipPath(p), Kind: zuliptest.FaultStatus, Status: 429, Delay: 1500 * time.Millisecond, Times: 5})
	reply := run(t, p.client, "/account email "+newEmail)
	assertContains(t, reply, "Your Mattermost email is now `"+newEmail+"`")
	// Meanwhile a Zulip-only user takes the address.
	w.Zulip.AddUser(zuliptestUser(newEmail))

	waitForEmails(t, p, p.email, p.email)
	assertRecord(t, waitForState(t, p.client, "rolled_back"), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "rolled_back", "mattermost": "rolled_back", "zulip": "untouched", "code": "taken_in_zulip",
	}, nil, "")
	waitForBotMessage(t, p, "Zulip did not take your email change to `"+newEmail+"`", "put back to `"+p.email+"`", "Another Zulip account already uses")
}

// The plugin is disabled while a change waits for Zulip, and enabled again
// after Zulip is back: nothing is lost, the change is made.
func TestDisabledWhileAChangeWaits(t *testing.T) {
	p := newPerson(t)
	newEmail := newAddress()
	w.Zulip.AddFault(zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 503})
	t.Cleanup(w.Zulip.ClearFaults)
	assertContains(t, run(t, p.client, "/account email "+newEmail), "Your change to `"+newEmail+"` is saved")

	if _, err := w.Bed.Admin.DisablePlugin(ctxFor(t), pluginID); err != nil {
		t.Fatalf("disabling the plugin: %v", err)
	}
	enabled := false
	t.Cleanup(func() {
		if !enabled {
			_, _ = w.Bed.Admin.EnablePlugin(ctxFor(t), pluginID)
		}
	})
	w.Zulip.ClearFaults()
	time.Sleep(3 * time.Second) // three job intervals: nothing runs while disabled
	assertUnchanged(t, p)

	if _, err := w.Bed.Admin.EnablePlugin(ctxFor(t), pluginID); err != nil {
		t.Fatalf("enabling the plugin: %v", err)
	}
	enabled = true
	waitForEmails(t, p, newEmail, newEmail)
	waitForState(t, p.client, "done")
	waitForBotMessage(t, p, "Your email change is complete")
}

// /account status and /account cancel: a change waiting for Zulip is
// dropped, stays dropped once Zulip is back, and a new change is possible.
func TestStatusAndCancel(t *testing.T) {
	p := newPerson(t)
	assertContains(t, run(t, p.client, "/account status"), "no email change on record")
	newEmail := newAddress()
	w.Zulip.AddFault(zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 502})
	t.Cleanup(w.Zulip.ClearFaults)
	assertContains(t, run(t, p.client, "/account email "+newEmail), "Your change to `"+newEmail+"` is saved")
	assertContains(t, run(t, p.client, "/account email "+newAddress()), "already have an email change in progress (to `"+newEmail+"`)", "Nothing was changed")

	reply := run(t, p.client, "/account cancel")
	assertContains(t, reply, "Cancelled your email change to `"+newEmail+"`", "Nothing was changed")
	assertContains(t, run(t, p.client, "/account status"), "was cancelled")
	w.Zulip.ClearFaults()
	time.Sleep(3 * time.Second) // the job runs every second: it must leave a cancelled change alone
	assertUnchanged(t, p)
	assertRecord(t, latestChange(t, p.client), map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail,
		"state": "cancelled", "mattermost": "untouched", "zulip": "untouched", "code": "cancelled",
	}, []string{"validate", "check_mattermost", "check_zulip", "cancel"}, "check_zulip")
	assertContains(t, run(t, p.client, "/account cancel"), "nothing to cancel")

	next := newAddress()
	assertContains(t, run(t, p.client, "/account email "+next), "Your email is now `"+next+"` in Mattermost and in Zulip")
}

// Two /account email commands by one user at once: one runs, the other is
// told a change is running; both systems end with the winner's address.
func TestTwoCommandsAtOnce(t *testing.T) {
	p := newPerson(t)
	// Slow Zulip's user lookups (every change makes one, under the lock)
	// so that the two overlap.
	withFault(t, zuliptest.Fault{Method: http.MethodGet, Path: "/api/v1/users/", Kind: zuliptest.FaultSlow, Delay: 1500 * time.Millisecond})
	addrs := []string{newAddress(), newAddress()}
	replies := make([]string, 2)
	var wg sync.WaitGroup
	for i := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = run(t, p.client, "/account email "+addrs[i])
		}()
	}
	wg.Wait()
	winner := -1
	for i, r := range replies {
		if strings.Contains(r, "Your email is now `"+addrs[i]+"` in Mattermost and in Zulip") {
			if winner >= 0 {
				t.Fatalf("both changes ran: %q", replies)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no change ran: %q", replies)
	}
	assertContains(t, replies[1-winner], "Another change of your email is still running", "Nothing was changed")
	assertEmails(t, p, addrs[winner], addrs[winner])
	if rec := latestChange(t, p.client); rec["new_email"] != addrs[winner] || rec["state"] != "done" {
		t.Errorf("latest change %v", rec)
	}
}
