package account

import (
	"context"
	"testing"
)

// Review 4: an offer is accepted only while it still holds. AcceptOffer
// checks the offer's id and state, never that Zulip still has the offered
// address, that Mattermost still has the agreed one, or that the link
// still goes to the offer's Zulip account: a stale offer runs the normal
// flow to an address nobody currently holds, and changes Zulip too.
func TestOfferReviewAcceptStaleOffer(t *testing.T) {
	const third = "ann.third@example.org"
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"Zulip changed again (an admin corrected it)", func(h *harness) { h.z.accounts[10].addr = third }},
		{"Zulip changed back to the agreed address", func(h *harness) { h.z.accounts[10].addr = ann }},
		{"Mattermost changed meanwhile", func(h *harness) { h.mm.users["u1"].Email = "ann.mm@example.org" }},
		{"the link remade to another Zulip account", func(h *harness) {
			h.z.accounts[10].addr = third // the offered address is free again
			h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 11, Method: LinkCodeMethod, AgreedEmail: "ann.other@example.org"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann, "ann.other@example.org")
			h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann})
			h.z.accounts[10].addr = annNew
			o, ok := h.service().OfferZulipChange(context.Background(), "u1")
			if !ok {
				t.Fatal("no offer")
			}
			tc.setup(h)
			before10, before11 := h.z.addrOf(10), h.z.addrOf(11)
			res, f := h.service().AcceptOffer(context.Background(), "u1", "s-u1", o.ID)
			if f == nil || f.Code != CodeOfferNotCurrent {
				t.Errorf("a stale offer was accepted: failure %v, change %s %s->%s (Zulip %d)", f, res.Change.State, res.Change.OldEmail, res.Change.NewEmail, res.Change.ZulipUserID)
			}
			if h.mm.users["u1"].Email == annNew {
				t.Errorf("Mattermost moved to the stale offered address %s", annNew)
			}
			if h.z.addrOf(10) != before10 || h.z.addrOf(11) != before11 {
				t.Errorf("pressing 'Use it in Mattermost too' changed Zulip: account 10 %s -> %s, account 11 %s -> %s (patches %v)", before10, h.z.addrOf(10), before11, h.z.addrOf(11), h.z.patches)
			}
		})
	}
}
