package account

import (
	"context"
	"testing"
)

// Review: what was tried and held (these pass).

// Zulip's new address is another Mattermost user's (in another case), or
// the Zulip account became a bot, or the allowed domains exclude it, or
// the event's account is no longer the one linked: Ann's Mattermost email
// never moves.
func TestReviewHeldApplyOtherAccounts(t *testing.T) {
	h := applyHarness()
	h.mm.users["u2"].Email = "ANN@new.example.org"
	res, _ := h.service().ApplyZulipChange(context.Background(), "u1")
	if res.Failure == nil || res.Failure.Code != CodeTakenInMattermost || h.mm.users["u1"].Email != ann || len(h.z.patches) > 1 {
		t.Errorf("taken in another case: %+v %v", res.Change, res.Failure)
	}
	h = applyHarness()
	h.z.accounts[10].bot = true
	if _, ok := h.service().ApplyZulipChange(context.Background(), "u1"); ok || h.mm.users["u1"].Email != ann {
		t.Error("applied from a bot account")
	}
	// The event names account 10; Ann was relinked to 11 meanwhile (still at ann).
	h = applyHarness()
	h.z.accounts[11] = &zAccount{id: 11, addr: ann}
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 11, AgreedEmail: ann})
	if h.service().ZulipAccountChanged(context.Background(), 10, annNew) || h.mm.users["u1"].Email != ann {
		t.Error("applied the address of an account no longer linked")
	}
}

// The link store refuses a Zulip account linked to someone else between
// the scan and the link, and a user linked meanwhile.
func TestReviewHeldAutoLinkStale(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "u2", Username: "bob", Email: "bob@example.org", EmailVerified: true}}, ann)
	row := DriftRow{UserID: "u1", ZulipUserID: 10, ZulipEmail: ann, Email: ann, Kind: DriftWouldLink}
	if err := h.links.AddLink(Link{UserID: "u2", ZulipUserID: 10}); err != nil {
		t.Fatal(err)
	}
	if h.service().autoLink(context.Background(), row) {
		t.Error("linked an account someone else was linked to meanwhile")
	}
}
