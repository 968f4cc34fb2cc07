package scenarios

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// offerPost waits for the bot's direct message that offers p an address,
// and returns it.
func offerPost(t *testing.T, p person) *model.Post {
	t.Helper()
	var found *model.Post
	eventually(func() bool {
		for _, post := range botPosts(t, p) {
			if len(post.Attachments()) > 0 {
				found = post
				return true
			}
		}
		return false
	})
	if found == nil {
		t.Fatalf("no offer from the bot; its messages: %q", botMessages(t, p))
	}
	return found
}

// actionID is the id of the offer's button named name.
func actionID(t *testing.T, post *model.Post, name string) string {
	t.Helper()
	for _, a := range post.Attachments() {
		for _, act := range a.Actions {
			if act.Name == name {
				return act.Id
			}
		}
	}
	t.Fatalf("no %q button on %+v", name, post.Attachments())
	return ""
}

// offeredInZulip makes a linked person (their first change agreed both
// systems on first), changes their address in Zulip's own settings, and
// waits for the bot's offer of it.
func offeredInZulip(t *testing.T) (p person, first, inZulip string, post *model.Post) {
	t.Helper()
	p = newPerson(t)
	first = newAddress()
	assertContains(t, run(t, p.client, "/account email "+first), "in Mattermost and in Zulip")
	inZulip = newAddress()
	w.Zulip.ChangeEmailInSettings(p.zulipID, inZulip)
	post = offerPost(t, p)
	assertContains(t, post.Message, "Your Zulip email was changed to `"+inZulip+"` outside Account Sync", "your Mattermost email is still `"+first+"`")
	return p, first, inZulip, post
}

// Issue 15: an address changed in Zulip's own settings is offered to the
// Mattermost user with two buttons; another user cannot press them; Use
// moves Mattermost to it, and the post loses its buttons.
func TestZulipChangeOfferedAndUsed(t *testing.T) {
	withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1"})
	p, first, inZulip, post := offeredInZulip(t)
	use := actionID(t, post, "Use it in Mattermost too")

	other := newPerson(t)
	if _, err := other.client.DoPostAction(ctxFor(t), post.Id, use); err == nil {
		t.Errorf("another user pressed the offer's button")
	}
	assertEmails(t, p, first, inZulip)

	if _, err := p.client.DoPostAction(ctxFor(t), post.Id, use); err != nil {
		t.Fatalf("pressing Use: %v", err)
	}
	waitForEmails(t, p, inZulip, inZulip)
	assertRecord(t, waitForState(t, p.client, "done"), map[string]any{
		"user_id": p.user.Id, "old_email": first, "new_email": inZulip, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, nil, "")
	if rec, _ := link(t, p.client); rec["agreed_email"] != inZulip {
		t.Errorf("agreed %v, want %s", rec["agreed_email"], inZulip)
	}
	for _, r := range zulipRequests(http.MethodPatch) {
		if r.Path == zulipPath(p) && r.Form.Get("new_email") == inZulip {
			t.Errorf("Zulip was changed again after the offer: %s", r.Path)
		}
	}
	answered, _, err := p.client.GetPost(ctxFor(t), post.Id, "")
	if err != nil || len(answered.Attachments()) != 0 {
		t.Errorf("the answered offer keeps its buttons: %v %+v", err, answered)
	}
}

// Keep: nothing changes in either system, and the address is not offered
// again at the next scans.
func TestZulipChangeOfferKept(t *testing.T) {
	withSettings(t, map[string]any{"ReconcileIntervalSeconds": "1"})
	p, first, inZulip, post := offeredInZulip(t)
	if _, err := p.client.DoPostAction(ctxFor(t), post.Id, actionID(t, post, "Keep my Mattermost email")); err != nil {
		t.Fatalf("pressing Keep: %v", err)
	}
	time.Sleep(3 * time.Second) // a few scans
	assertEmails(t, p, first, inZulip)
	n := 0
	for _, m := range botMessages(t, p) {
		if strings.Contains(m, "Your Zulip email was changed to `"+inZulip+"`") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("offered %d times, want once", n)
	}
}

// Zulip's real-time events bring the offer within seconds, without waiting
// for the scan (the test bed's scan runs once a day).
func TestZulipChangeOfferedByEvents(t *testing.T) {
	p, first, inZulip, _ := offeredInZulip(t)
	polled := false
	for _, r := range zulipRequests(http.MethodGet) {
		polled = polled || r.Path == "/api/v1/events"
	}
	if !polled {
		t.Error("the offer came without Zulip's events being followed")
	}
	assertEmails(t, p, first, inZulip)
}
