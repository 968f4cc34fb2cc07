package account

import (
	"context"
	"testing"
	"time"
)

// Review: auto-linking in the scan.

// A user who removed their link on purpose (`/account unlink`, whose reply
// says "`/account email` now changes nothing until you link again") is
// linked again by the next scan, without doing anything; from then on a
// change made in Mattermost elsewhere is forwarded to that Zulip account.
func TestReviewScanDoesNotUndoAnUnlink(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann})
	if res := h.service().Unlink(context.Background(), "u1", "s-u1"); res.Outcome != LinkOutcomeUnlinked {
		t.Fatalf("unlink %+v", res)
	}
	rep, f := h.service().Reconcile(context.Background())
	if l, ok := h.links.byUser["u1"]; ok || rep.Linked != 0 {
		t.Errorf("the scan undid the user's unlink: link %+v, scan %+v (%v)", l, rep, f)
	}
	// And what the user unlinked to avoid happens: a change made in
	// Mattermost elsewhere reaches the Zulip account.
	h.mm.users["u1"].Email = annNew
	if rep, _ := h.service().Reconcile(context.Background()); rep.Forwarded != 0 || h.z.addrOf(10) != ann {
		t.Errorf("after unlink: scan %+v, Zulip %s", rep, h.z.addrOf(10))
	}
}

// A Mattermost system admin with no Zulip account and no link. In Zulip, an
// account is given the admin's (verified) Mattermost address: by a Zulip
// administrator, who may change emails (the bot needs that permission, so
// the organisation grants it). The scan links the Mattermost admin to that
// Zulip account by itself; in apply mode, renaming it in Zulip then moves
// the Mattermost admin's email to an address of the Zulip side's choosing
// (with verification on, the link goes to that address too), which a
// password reset turns into the Mattermost admin account. Before the scan
// linked by itself, the link needed the user's own /account email or an
// admin's link-all.
func TestReviewAutoLinkAndApplyDoNotHandAMattermostAdminToZulip(t *testing.T) {
	admin := User{ID: "u1", Username: "root", Email: "root@example.org", EmailVerified: true}
	h := newHarness([]User{admin}, "someone@example.org")
	h.mm.admins["u1"] = true
	h.opts.ApplyZulipChanges = true
	// Zulip side: account 10 is given the admin's address.
	h.z.accounts[10].addr = "root@example.org"
	if _, f := h.service().Reconcile(context.Background()); f != nil {
		t.Fatal(f)
	}
	// ... and then an address the Zulip side holds.
	h.z.accounts[10].addr = "attacker@evil.example"
	h.clock.advance(15 * time.Minute)
	if _, f := h.service().Reconcile(context.Background()); f != nil {
		t.Fatal(f)
	}
	if got := h.mm.users["u1"].Email; got != "root@example.org" {
		t.Errorf("the Mattermost system admin's email was moved from Zulip to %s (link %+v)", got, h.links.byUser["u1"])
	}
}
