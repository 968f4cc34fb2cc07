package account

import (
	"context"
	"errors"
	"testing"
)

// Issue 15: the scan links a user exactly where /account email would (a
// verified Mattermost email that is the real address of an active human
// Zulip account nobody is linked to), with the agreed address, and without
// a Zulip request of its own; then a change made in Mattermost elsewhere
// is followed with no admin step.
func TestScanLinksWhereAccountEmailWould(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	rep, f := h.service().Reconcile(context.Background())
	if f != nil || rep.Linked != 1 {
		t.Fatalf("scan %+v %v", rep, f)
	}
	l, ok := h.links.byUser["u1"]
	if !ok || l.ZulipUserID != 10 || l.Method != LinkScanMethod || l.AgreedEmail != ann || l.LinkedBy != "" || !l.LinkedAt.Equal(h.clock.now()) {
		t.Fatalf("link %v %+v", ok, l)
	}
	if got := h.z.reqs; len(got) != 1 || got[0] != "users" {
		t.Errorf("Zulip requests %v, want the scan's one list", got)
	}
	if len(h.mm.updates) != 0 || len(h.z.patches) != 0 || len(h.rec.saved) != 0 || len(h.notes.sent) != 0 {
		t.Errorf("linking changed something: updates %v, patches %v, saves %d, notes %v", h.mm.updates, h.z.patches, len(h.rec.saved), h.notes.sent)
	}
	if rep, _ := h.service().Reconcile(context.Background()); rep.Linked != 0 || rep.Rows != 0 {
		t.Errorf("second scan %+v", rep)
	}
	// Followed from now on: a change made in Mattermost elsewhere reaches Zulip.
	h.mm.users["u1"].Email = annNew
	if rep, _ := h.service().Reconcile(context.Background()); rep.Forwarded != 1 || h.z.addrOf(10) != annNew {
		t.Errorf("after the link, a change elsewhere: scan %+v, Zulip %s", rep, h.z.addrOf(10))
	}
}

// An SSO user's verified address comes from the directory: linked too.
func TestScanLinksAnSSOUser(t *testing.T) {
	u := annUser()
	u.AuthService = "saml"
	h := newHarness([]User{u}, ann)
	if rep, _ := h.service().Reconcile(context.Background()); rep.Linked != 1 || h.links.byUser["u1"].AgreedEmail != ann {
		t.Errorf("scan %+v, links %v", rep, h.links.byUser)
	}
}

// Everything else is left to the drift report: nothing is linked.
func TestScanLinksNothingElse(t *testing.T) {
	bob := User{ID: "u2", Username: "bob", Email: "bob@example.org", EmailVerified: true}
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"unverified email", func(h *harness) { h.mm.users["u1"].EmailVerified = false }},
		{"no Zulip account with the address", func(h *harness) { h.z.accounts[10].addr = "ann.other@example.org" }},
		{"Zulip account deactivated", func(h *harness) { h.z.accounts[10].inactive = true }},
		{"Zulip account a bot", func(h *harness) { h.z.accounts[10].bot = true }},
		{"Zulip hides the address", func(h *harness) { h.z.accounts[10].hidden = true }},
		{"Zulip account linked to someone else", func(h *harness) {
			h.mm.add(bob)
			h.links = newMemLinks(Link{UserID: "u2", ZulipUserID: 10, AgreedEmail: bob.Email})
		}},
		{"Mattermost user deactivated", func(h *harness) { h.mm.users["u1"].Deactivated = true }},
		{"a bot", func(h *harness) { h.mm.users["u1"].IsBot = true }},
		{"an open change", func(h *harness) {
			ch := Change{ID: "c0", UserID: "u1", State: StateWaitingForZulip, NewEmail: annNew, CreatedAt: h.clock.now()}
			if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
				panic(err)
			}
		}},
		{"busy", func(h *harness) { h.locker.held["u1"] = true }},
		{"sync off", func(h *harness) { h.opts.SyncZulip = false }},
		{"the link cannot be saved", func(h *harness) { h.links.addErr = errors.New("kv down") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			tc.setup(h)
			rep, _ := h.service().Reconcile(context.Background())
			if l, ok := h.links.byUser["u1"]; ok || rep.Linked != 0 {
				t.Errorf("linked %+v, scan %+v", l, rep)
			}
		})
	}
}

// The user changed between the scan's read and the link: not linked.
func TestAutoLinkReadsTheUserAgain(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	row := DriftRow{UserID: "u1", ZulipUserID: 10, ZulipEmail: ann, Email: ann, Kind: DriftWouldLink}
	h.mm.users["u1"].Email = annNew
	if h.service().autoLink(context.Background(), row) || len(h.links.byUser) != 0 {
		t.Errorf("linked a user whose email moved: %v", h.links.byUser)
	}
	h.mm.users["u1"].Email, h.mm.users["u1"].EmailVerified = ann, false
	if h.service().autoLink(context.Background(), row) || len(h.links.byUser) != 0 {
		t.Errorf("linked a user whose email is no longer verified: %v", h.links.byUser)
	}
	h.mm.users["u1"].EmailVerified, h.mm.users["u1"].Deactivated = true, true
	if h.service().autoLink(context.Background(), row) || len(h.links.byUser) != 0 {
		t.Errorf("linked a deactivated user: %v", h.links.byUser)
	}
	h.mm.users["u1"].Deactivated, h.mm.users["u1"].IsBot = false, true
	if h.service().autoLink(context.Background(), row) || len(h.links.byUser) != 0 {
		t.Errorf("linked a bot: %v", h.links.byUser)
	}
	h.mm.users["u1"].IsBot = false
	row.Kind = DriftWouldLinkUnverified
	if h.service().autoLink(context.Background(), row) || len(h.links.byUser) != 0 {
		t.Errorf("linked another kind of row: %v", h.links.byUser)
	}
	row.Kind = DriftWouldLink
	if !h.service().autoLink(context.Background(), row) || h.links.byUser["u1"].ZulipUserID != 10 {
		t.Errorf("not linked: %v", h.links.byUser)
	}
}
