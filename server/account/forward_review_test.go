package account

import (
	"context"
	"strings"
	"testing"
)

// review3: a change of the user's own that does not take, made while their
// Mattermost email stands apart from the agreed address (changed elsewhere,
// not yet forwarded, or a forward Zulip could not take), ends by setting
// the agreed address to the change's OldEmail: Mattermost's address, which
// Zulip never had. The pair then reads as "changed in Zulip" and the
// Mattermost change is never forwarded: the two stay apart, mislabelled.
func TestForwardReviewFailedOwnChangeMovesAgreedToAnAddressZulipNeverHad(t *testing.T) {
	h := elsewhereHarness() // agreed ann; Mattermost annNew (elsewhere); Zulip ann
	h.links.byUser["u1"] = Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann}
	h.z.patchErrs = []error{nil, errTaken} // the probe passes; Zulip refuses the change itself
	res := h.service().ChangeEmail(context.Background(), req("ann3@example.org"))
	if res.Change.State != StateRolledBack {
		t.Fatalf("setup: change %+v (%v)", res.Change, res.Failure)
	}
	if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != ann {
		t.Fatalf("setup: Mattermost %s, Zulip %s", h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if got := agreedOf(h); got != ann {
		t.Errorf("agreed %q after a rolled-back change, want %q: Zulip has %q and never had %q", got, ann, h.z.addrOf(10), got)
	}
	if _, ok := h.service().Forward(context.Background(), "u1"); !ok || h.z.addrOf(10) != annNew {
		t.Errorf("the change made in Mattermost elsewhere is no longer forwarded: ok %v, Zulip %s, Mattermost %s", ok, h.z.addrOf(10), h.mm.users["u1"].Email)
	}
	rep, _ := h.service().driftReport(context.Background(), "t")
	for _, r := range rep.Rows {
		if r.UserID == "u1" && r.Kind == DriftZulipChanged {
			t.Errorf("drift row %+v: reported as changed in Zulip, though only Mattermost moved", r)
		}
	}
}

// review3: a forward Zulip cannot take for a reason only an admin can fix
// (the bot's key rotated, the bot demoted for a moment) was recorded as
// failed and never tried again. Now it is not recorded, the admin finds it
// in the log, and once the bot is fixed the next scan forwards it.
func TestForwardReviewForwardNeverRetriedAfterAPassingAdminFailure(t *testing.T) {
	h := elsewhereHarness()
	h.z.errs["getid"] = errUnauth // the bot's key, rotated a minute ago
	if _, ok := h.service().Forward(context.Background(), "u1"); ok || len(h.rec.saved) != 0 || len(h.notes.sent) != 0 {
		t.Fatalf("an admin-side failure was recorded or told to the user: saves %d, notes %d", len(h.rec.saved), len(h.notes.sent))
	}
	if !logHas(h, "error", "cannot be forwarded for now") {
		t.Errorf("the admin is not told in the log:\n%s", h.log)
	}
	delete(h.z.errs, "getid") // the admin puts the new key in
	h.clock.advance(15 * 60 * 1e9)
	_, ok := h.service().Forward(context.Background(), "u1")
	if !ok || h.z.addrOf(10) != annNew {
		t.Errorf("after the bot was fixed: forwarded %v, Zulip %s, Mattermost %s: the systems stay apart for good", ok, h.z.addrOf(10), h.mm.users["u1"].Email)
	}
}

// review3: the plugin's "Allowed email domains" setting ("a new address
// must be in one of them") and its fail-closed rule for a setting that is
// not domains ("every change is refused") are not applied to forwards:
// Zulip is PATCHed with an address outside the allowed domains.
func TestForwardReviewForwardIgnoresAllowedDomains(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"outside the allowed domains", func(h *harness) { h.opts.AllowedDomains = []string{"example.org"} }}, // annNew is @new.example.org
		{"setting not domains: every change refused", func(h *harness) { h.opts.AllowedDomainsInvalid = []string{"not a domain"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := elsewhereHarness()
			tc.setup(h)
			res, _ := h.service().Forward(context.Background(), "u1")
			for _, p := range h.z.patches {
				if strings.HasPrefix(p, "10->") {
					t.Errorf("Zulip PATCHed %q (forward %s, code %q): the domain setting is bypassed", p, res.Change.State, res.Change.Code)
				}
			}
		})
	}
}

// review3: forwards are not counted against, nor stopped by, the per-user
// limits ("so one user cannot spend the bot's Zulip rate limit"; "The
// limits ... are not loosened by any of this"). A user who changes their
// email on the profile page and signs in again gets a Zulip PATCH every
// time.
func TestForwardReviewForwardBypassesThePerUserLimits(t *testing.T) {
	h := elsewhereHarness()
	h.opts.MaxChangesPerDay = 2
	for i := range 6 {
		h.mm.users["u1"].Email = "ann" + string(rune('a'+i)) + "@example.org" // the profile page, then a sign-in
		h.service().Forward(context.Background(), "u1")
		h.clock.advance(60 * 1e9)
	}
	n := 0
	for _, p := range h.z.patches {
		if strings.HasPrefix(p, "10->") {
			n++
		}
	}
	if n > h.opts.MaxChangesPerDay {
		t.Errorf("%d Zulip changes of one user's account in 6 minutes with a limit of %d a day: %v", n, h.opts.MaxChangesPerDay, h.z.patches)
	}
}

// review3: a change Account Sync made while sync was off ("stays a
// Mattermost-only change, even if sync is turned on") is taken for a
// change made elsewhere once sync is on: forwarded to Zulip, recorded with
// origin mattermost_elsewhere, and the user is told it was changed
// "outside Account Sync".
func TestForwardReviewSyncOffChangeTakenForAChangeMadeElsewhere(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann})
	h.opts.SyncZulip = false
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew {
		t.Fatalf("setup: %+v", res.Change)
	}
	h.opts.SyncZulip = true
	fw, ok := h.service().Forward(context.Background(), "u1")
	if ok {
		t.Errorf("Account Sync's own change (%s) forwarded as made elsewhere: origin %q, state %s, Zulip now %s", res.Change.ID, fw.Change.Origin, fw.Change.State, h.z.addrOf(10))
	}
}

// A forward that ran out of retry time is tried again by the next scan
// (Zulip may be back); one refused for good is not.
func TestForwardRetriedAfterGivingUp(t *testing.T) {
	for _, tc := range []struct {
		code      Code
		wantAgain bool
	}{{CodeGaveUp, true}, {CodeTakenInZulip, false}} {
		h := elsewhereHarness()
		old := Change{ID: "c0", UserID: "u1", Origin: OriginMattermostElsewhere, OldEmail: ann, NewEmail: annNew, ZulipUserID: 10,
			State: StateFailed, Code: tc.code, CreatedAt: h.clock.now()}
		if err := h.rec.SaveChange(context.Background(), &old); err != nil {
			t.Fatal(err)
		}
		if _, ok := h.service().Forward(context.Background(), "u1"); ok != tc.wantAgain || (h.z.addrOf(10) == annNew) != tc.wantAgain {
			t.Errorf("after %s: forwarded %v, Zulip %s", tc.code, ok, h.z.addrOf(10))
		}
	}
}
