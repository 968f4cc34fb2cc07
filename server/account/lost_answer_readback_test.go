package account

import (
	"context"
	"testing"
)

// A linked Zulip account whose email visibility is "nobody" shows the bot
// no delivery_email, so reading it back can never prove Zulip "kept the
// old address". After a lost answer that Zulip did commit, Mattermost's
// email is changed by other means: the change must not end "failed /
// Zulip was not changed" while Zulip has the new address.
func TestReviewHiddenAccountChangedMeanwhileAfterLostAnswer(t *testing.T) {
	const third = "ann@third.example.org"
	h := newHarness([]User{annUser()}, ann)
	h.z.accounts[10].hidden = true
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
		t.Fatal(err)
	}
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.applyLost = true // Zulip did take it
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
		t.Fatalf("change %+v, want mattermost_changed with Zulip unknown", res.Change)
	}
	h.mm.users["u1"].Email = third
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if h.z.addrOf(10) != annNew {
		t.Fatalf("setup: Zulip has %s", h.z.addrOf(10))
	}
	if got.State == StateFailed || got.Zulip == StatusUntouched {
		t.Errorf("record state=%s zulip=%s, but Zulip has %s: the user is told Zulip was not changed", got.State, got.Zulip, h.z.addrOf(10))
	}
	// Only a failed change's notice says "did not change Zulip" or
	// "nothing was changed" (reply's TestNoticeTexts).
	for _, n := range h.notes.sent {
		if noteOf(n.n).state == StateFailed {
			t.Errorf("direct message lies: %v", n)
		}
	}
}

// Same account kind: Zulip's answer is lost (and committed), then the user
// is deactivated. endForDeactivated reads Zulip; the hidden account shows
// no address, so the change is rolled back in Mattermost and the user is
// told Zulip did not take it, while Zulip has the new address.
func TestReviewHiddenAccountDeactivatedAfterLostAnswer(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.accounts[10].hidden = true
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
		t.Fatal(err)
	}
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.applyLost = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged {
		t.Fatalf("change %+v", res.Change)
	}
	h.mm.users["u1"].Deactivated = true
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	mm, z := h.mm.users["u1"].Email, h.z.addrOf(10)
	if mm != z && got.State != StateNeedsAttention {
		t.Errorf("Mattermost %s, Zulip %s, record state=%s zulip=%s mattermost=%s: systems differ and nobody is told", mm, z, got.State, got.Zulip, got.Mattermost)
	}
}

// Zulip's answer was lost (it did commit), then the link is changed by
// hand before the job runs. followZulip rolls Mattermost back for
// link_changed without reading Zulip first, and tells the user Zulip did
// not take the change, while Zulip has the new address.
func TestReviewLinkChangedAfterLostAnswerRollsBackBlind(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.applyLost = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
		t.Fatalf("change %+v", res.Change)
	}
	if _, _, err := h.links.RemoveLink("u1"); err != nil { // an admin repairs the link by hand
		t.Fatal(err)
	}
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	mm, z := h.mm.users["u1"].Email, h.z.addrOf(10)
	if mm != z && got.State != StateNeedsAttention {
		t.Errorf("Mattermost %s, Zulip %s; record state=%s zulip=%s code=%s; note: %v", mm, z, got.State, got.Zulip, got.Code, h.notes.sent)
	}
}

// Zulip's answer to the change was lost (Zulip did commit it). Before the
// job reads the account back, the bot's key is rotated (401 on the read).
// followZulip takes the read's refusal as Zulip's answer to the change and
// rolls Mattermost back, telling the user Zulip did not take the change,
// while Zulip has the new address.
func TestReviewLostAnswerThenReadRefusedRollsBackBlind(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.applyLost = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
		t.Fatalf("change %+v", res.Change)
	}
	h.z.settleLate() // Zulip finished the PATCH
	h.z.errs["getid"] = errUnauth
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	mm, z := h.mm.users["u1"].Email, h.z.addrOf(10)
	if mm != z && got.State != StateNeedsAttention && got.State.Open() == false {
		t.Errorf("Mattermost %s, Zulip %s; record state=%s zulip=%s code=%s; note: %v", mm, z, got.State, got.Zulip, got.Code, h.notes.sent)
	}
}
