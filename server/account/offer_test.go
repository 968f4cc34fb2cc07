package account

import (
	"context"
	"testing"
)

// zulipChangedHarness: Ann is linked to Zulip account 10, both agreed on
// her address; then her Zulip address is changed to annNew in Zulip.
func zulipChangedHarness() *harness {
	h := newHarness([]User{annUser(), {ID: "u2", Username: "bob", Email: "bob@example.org", EmailVerified: true}}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann})
	h.z.accounts[10].addr = annNew
	return h
}

// Issue 15: a change made in Zulip elsewhere is offered to the Mattermost
// user, who decides; accepting runs the normal flow for Mattermost.
func TestOfferAZulipChangeAndAcceptIt(t *testing.T) {
	h := zulipChangedHarness()
	o, ok := h.service().OfferZulipChange(context.Background(), "u1")
	if !ok || o.State != OfferOpen || o.Email != annNew || o.Agreed != ann || o.ZulipUserID != 10 || o.UserID != "u1" {
		t.Fatalf("offer %v %+v", ok, o)
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].userID != "u1" || h.notes.sent[0].n.Kind != NoticeOffer || h.notes.sent[0].n.Offer != o {
		t.Fatalf("notes %v", h.notes.sent)
	}
	if h.mm.users["u1"].Email != ann || len(h.mm.updates) != 0 || len(h.rec.saved) != 0 {
		t.Errorf("an offer changed something: Mattermost %s, updates %v, saves %d", h.mm.users["u1"].Email, h.mm.updates, len(h.rec.saved))
	}
	// Offered once: the next scan does not offer it again.
	if _, again := h.service().OfferZulipChange(context.Background(), "u1"); again || len(h.notes.sent) != 1 {
		t.Errorf("offered twice")
	}
	// Someone else pressing Ann's button gets nothing.
	if _, f := h.service().AcceptOffer(context.Background(), "u2", "s-u2", o.ID); f == nil || f.Code != CodeOfferNotCurrent || h.mm.users["u1"].Email != ann {
		t.Errorf("another user accepted Ann's offer: %v", f)
	}
	// A session that is not the presser's is refused.
	if _, f := h.service().AcceptOffer(context.Background(), "u1", "s-u2", o.ID); f == nil || f.Code != CodeSessionUnknown {
		t.Errorf("a foreign session: %v", f)
	}
	res, f := h.service().AcceptOffer(context.Background(), "u1", "s-u1", o.ID)
	if f != nil || res.Change.State != StateDone || res.Change.NewEmail != annNew || res.Change.Zulip != StatusChanged {
		t.Fatalf("accept: %v %+v", f, res.Change)
	}
	if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew || agreedOf(h) != annNew {
		t.Errorf("Mattermost %s, Zulip %s, agreed %q: want all %s", h.mm.users["u1"].Email, h.z.addrOf(10), agreedOf(h), annNew)
	}
	for _, p := range h.z.patches {
		if p != probe {
			t.Errorf("Zulip changed again: %s", p)
		}
	}
	if got := h.offers.byUser["u1"]; got.State != OfferAccepted || got.AnsweredAt == nil {
		t.Errorf("offer %+v, want accepted", got)
	}
	// Answered: a second press does nothing.
	if _, f := h.service().AcceptOffer(context.Background(), "u1", "s-u1", o.ID); f == nil || f.Code != CodeOfferNotCurrent {
		t.Errorf("accepted twice: %v", f)
	}
}

// Keeping ends the offer, nothing changes, and the address is not offered
// again.
func TestKeepAnOffer(t *testing.T) {
	h := zulipChangedHarness()
	o, _ := h.service().OfferZulipChange(context.Background(), "u1")
	kept, f := h.service().KeepOffer("u1", "s-u1", o.ID)
	if f != nil || kept.State != OfferKept || h.offers.byUser["u1"].State != OfferKept {
		t.Fatalf("keep: %v %+v", f, kept)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != annNew || len(h.rec.saved) != 0 || agreedOf(h) != ann {
		t.Errorf("keeping changed something: Mattermost %s, Zulip %s, saves %d, agreed %q", h.mm.users["u1"].Email, h.z.addrOf(10), len(h.rec.saved), agreedOf(h))
	}
	if _, again := h.service().OfferZulipChange(context.Background(), "u1"); again {
		t.Error("a kept address was offered again")
	}
	if _, f := h.service().KeepOffer("u1", "s-u1", o.ID); f == nil || f.Code != CodeOfferNotCurrent {
		t.Errorf("kept twice: %v", f)
	}
	// A later, different address in Zulip is offered.
	h.z.accounts[10].addr = "ann.third@example.org"
	if o2, again := h.service().OfferZulipChange(context.Background(), "u1"); !again || o2.Email != "ann.third@example.org" {
		t.Errorf("a new address was not offered: %v %+v", again, o2)
	}
}

// What is not a change made in Zulip elsewhere, or not to offer.
func TestOfferLeavesAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"report only", func(h *harness) { h.opts.ReportZulipChanges = true }},
		{"sync off", func(h *harness) { h.opts.SyncZulip = false }},
		{"not linked", func(h *harness) { h.links = newMemLinks() }},
		{"no agreed address", func(h *harness) { h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10}) }},
		{"Zulip not changed", func(h *harness) { h.z.accounts[10].addr = ann }},
		{"Mattermost changed too", func(h *harness) { h.mm.users["u1"].Email = "ann.mm@example.org" }},
		{"Zulip hides the address", func(h *harness) { h.z.accounts[10].hidden = true }},
		{"Zulip account deactivated", func(h *harness) { h.z.accounts[10].inactive = true }},
		{"an address Mattermost would refuse", func(h *harness) { h.z.accounts[10].addr = "ann@invalid.example.org" }},
		{"outside the allowed domains", func(h *harness) { h.opts.AllowedDomains = []string{"example.org"} }},
		{"Mattermost user deactivated", func(h *harness) { h.mm.users["u1"].Deactivated = true }},
		{"busy", func(h *harness) { h.locker.held["u1"] = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := zulipChangedHarness()
			tc.setup(h)
			if o, ok := h.service().OfferZulipChange(context.Background(), "u1"); ok || len(h.notes.sent) != 0 || len(h.offers.byUser) != 0 {
				t.Errorf("offered %+v, notes %v", o, h.notes.sent)
			}
		})
	}
}

// The scan offers every change made in Zulip elsewhere, once.
func TestReconcileOffersZulipChanges(t *testing.T) {
	h := zulipChangedHarness()
	rep, f := h.service().Reconcile(context.Background())
	if f != nil || rep.Offered != 1 || len(h.notes.sent) != 1 {
		t.Fatalf("scan %+v %v, notes %d", rep, f, len(h.notes.sent))
	}
	if rep, _ := h.service().Reconcile(context.Background()); rep.Offered != 0 || len(h.notes.sent) != 1 {
		t.Errorf("second scan %+v, notes %d", rep, len(h.notes.sent))
	}
}

// A Zulip event about a linked account offers its change at once; about an
// unlinked account, nothing happens.
func TestZulipEventOffersAtOnce(t *testing.T) {
	h := zulipChangedHarness()
	if h.service().ZulipAccountChanged(context.Background(), 99, "x@example.org") || len(h.notes.sent) != 0 {
		t.Error("an unlinked account's event did something")
	}
	h.locker.held["u1"] = true // the user's own command runs
	if h.service().ZulipAccountChanged(context.Background(), 10, ann) || len(h.notes.sent) != 0 {
		t.Error("an event at the agreed address (Account Sync's own change) did something")
	}
	delete(h.locker.held, "u1")
	if !h.service().ZulipAccountChanged(context.Background(), 10, annNew) || len(h.notes.sent) != 1 || h.offers.byUser["u1"].Email != annNew {
		t.Errorf("the linked account's event: notes %v, offers %v", h.notes.sent, h.offers.byUser)
	}
}
