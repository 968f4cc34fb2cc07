package account

import (
	"context"
	"strings"
	"testing"
)

// elsewhereHarness: Ann is linked to Zulip account 10, both agreed on her
// old address; then her Mattermost email is changed to annNew by other
// means (the profile page, the System Console).
func elsewhereHarness() *harness {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail, AgreedEmail: ann})
	h.mm.users["u1"].Email = annNew
	return h
}

// Issue 15: a change made in Mattermost elsewhere is forwarded to the
// linked Zulip account through the same records, audit and notices, with
// its origin; Mattermost is never touched.
func TestForwardAChangeMadeInMattermostElsewhere(t *testing.T) {
	h := elsewhereHarness()
	aud := &memAuditor{}
	h.auditor = aud
	res, ok := h.service().Forward(context.Background(), "u1")
	if !ok || res.Change.State != StateDone || res.Change.Origin != OriginMattermostElsewhere {
		t.Fatalf("forward %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	if len(aud.events) != 1 || aud.events[0].Origin != OriginMattermostElsewhere || aud.events[0].NewEmail != annNew || !aud.events[0].Success {
		t.Errorf("audit %+v", aud.events)
	}
	got := stored(t, h, res.Change.ID)
	if got.OldEmail != ann || got.NewEmail != annNew || got.ZulipUserID != 10 || got.Mattermost != StatusChanged || got.Zulip != StatusChanged || got.Code != "" {
		t.Errorf("record %+v", got)
	}
	if s := stepNames(got); !strings.HasPrefix(s, StepFoundElsewhere) || !strings.HasSuffix(s, StepSyncZulip) {
		t.Errorf("steps %s", s)
	}
	if h.z.addrOf(10) != annNew || h.mm.users["u1"].Email != annNew || len(h.mm.updates) != 0 {
		t.Errorf("Zulip %s, Mattermost %s, Mattermost updates %v: want both new, Mattermost untouched", h.z.addrOf(10), h.mm.users["u1"].Email, h.mm.updates)
	}
	if agreedOf(h) != annNew {
		t.Errorf("agreed %q, want %q", agreedOf(h), annNew)
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].userID != "u1" {
		t.Fatalf("notes %v", h.notes.sent)
	}
	if n := h.notes.sent[0].n; n.Kind != NoticeOutcome || n.Result.Change.State != StateDone || n.Result.Change.Origin != OriginMattermostElsewhere {
		t.Errorf("notice %+v", n)
	}
	// Nothing left: a second forward does nothing.
	if _, ok := h.service().Forward(context.Background(), "u1"); ok {
		t.Error("forwarded twice")
	}
}

// Zulip cannot take the address: the change fails, Mattermost keeps it
// (never put back), the user is told once, and it is not forwarded again.
func TestForwardZulipCannotTake(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		code  Code
	}{
		{"taken in Zulip", func(h *harness) { h.z.accounts[11] = &zAccount{id: 11, addr: annNew} }, CodeTakenInZulip},
		{"refused at the change", func(h *harness) { h.z.patchErrs = []error{nil, errTaken} }, CodeTakenInZulip},
		{"linked account deactivated", func(h *harness) { h.z.accounts[10].inactive = true }, CodeZulipAccountInactive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := elsewhereHarness()
			tc.setup(h)
			res, ok := h.service().Forward(context.Background(), "u1")
			if !ok || res.Change.State != StateFailed || res.Change.Code != tc.code {
				t.Fatalf("forward %v: %+v (%v)", ok, res.Change, res.Failure)
			}
			if h.mm.users["u1"].Email != annNew || len(h.mm.updates) != 0 || h.z.addrOf(10) != ann {
				t.Errorf("Mattermost %s (updates %v), Zulip %s", h.mm.users["u1"].Email, h.mm.updates, h.z.addrOf(10))
			}
			if len(h.notes.sent) != 1 {
				t.Errorf("notes %d, want 1", len(h.notes.sent))
			}
			patches := len(h.z.patches)
			if _, ok := h.service().Forward(context.Background(), "u1"); ok || len(h.z.patches) != patches || len(h.notes.sent) != 1 {
				t.Errorf("forwarded again: %v, PATCHes %v, notes %d", ok, h.z.patches, len(h.notes.sent))
			}
		})
	}
}

// What is not a change made in Mattermost elsewhere, or not to forward.
func TestForwardLeavesAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"report only", func(h *harness) { h.opts.ReportMattermostChanges = true }},
		{"sync off", func(h *harness) { h.opts.SyncZulip = false }},
		{"not linked", func(h *harness) { h.links = newMemLinks() }},
		{"no agreed address", func(h *harness) { h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10}) }},
		{"the same address", func(h *harness) { h.mm.users["u1"].Email = ann }},
		{"Zulip changed too", func(h *harness) { h.z.accounts[10].addr = "ann.z@example.org" }},
		{"Zulip hides the address", func(h *harness) { h.z.accounts[10].hidden = true }},
		{"deactivated", func(h *harness) { h.mm.users["u1"].Deactivated = true }},
		{"Zulip down", func(h *harness) { h.z.errs["getid"] = errDown }},
		{"busy", func(h *harness) { h.locker.held["u1"] = true }},
		{"an open change", func(h *harness) {
			ch := Change{ID: "c0", UserID: "u1", OldEmail: ann, NewEmail: "x@example.org", State: StateWaitingForZulip, CreatedAt: h.clock.now()}
			if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
				panic(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := elsewhereHarness()
			tc.setup(h)
			before := len(h.rec.saved)
			if res, ok := h.service().Forward(context.Background(), "u1"); ok {
				t.Errorf("forwarded: %+v", res.Change)
			}
			if len(h.rec.saved) != before || len(h.z.patches) != 0 || len(h.notes.sent) != 0 || len(h.mm.updates) != 0 {
				t.Errorf("touched: saves %d, PATCHes %v, notes %d, updates %v", len(h.rec.saved)-before, h.z.patches, len(h.notes.sent), h.mm.updates)
			}
		})
	}
	t.Run("Zulip already has it: only the agreed address moves", func(t *testing.T) {
		h := elsewhereHarness()
		h.z.accounts[10].addr = annNew
		if _, ok := h.service().Forward(context.Background(), "u1"); ok || agreedOf(h) != annNew || len(h.z.patches) != 0 || len(h.rec.saved) != 0 {
			t.Errorf("ok %v, agreed %q, PATCHes %v, saves %d", ok, agreedOf(h), h.z.patches, len(h.rec.saved))
		}
	})
}

// A lost answer to the forward is settled by the job like any change, and
// a clear refusal then never puts Mattermost back.
func TestForwardLostAnswerSettledByTheJob(t *testing.T) {
	h := elsewhereHarness()
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.onPatch = func() {
		if len(h.z.patches) == 2 {
			h.z.accounts[11] = &zAccount{id: 11, addr: annNew} // taken meanwhile: the repeat is refused
		}
	}
	res, ok := h.service().Forward(context.Background(), "u1")
	if !ok || res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
		t.Fatalf("forward %v: %+v", ok, res.Change)
	}
	if agreedOf(h) != annNew {
		t.Errorf("agreed %q while the forward is open, want %q: moved before acting", agreedOf(h), annNew)
	}
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if got.State != StateFailed || got.Code != CodeTakenInZulip || h.mm.users["u1"].Email != annNew || len(h.mm.updates) != 0 {
		t.Errorf("record %+v, Mattermost %s (updates %v): want failed, Mattermost kept", got, h.mm.users["u1"].Email, h.mm.updates)
	}
	if agreedOf(h) != ann {
		t.Errorf("agreed %q, want %q (Zulip kept it)", agreedOf(h), ann)
	}
}

// The scan forwards every change made in Mattermost elsewhere, moves the
// agreed address where both changed alike, and reads Zulip's users once.
func TestReconcile(t *testing.T) {
	users := []User{annUser(), {ID: "u2", Username: "bob", Email: "bob.new@example.org", EmailVerified: true},
		{ID: "u3", Username: "cat", Email: "cat@example.org", EmailVerified: true}}
	h := newHarness(users, ann, "bob.new@example.org", "cat@example.org")
	h.links = newMemLinks(
		Link{UserID: "u1", ZulipUserID: 10, AgreedEmail: ann},
		Link{UserID: "u2", ZulipUserID: 11, AgreedEmail: "bob@example.org"}, // both moved to bob.new
		Link{UserID: "u3", ZulipUserID: 12, AgreedEmail: "cat@example.org"}, // in agreement
	)
	h.mm.users["u1"].Email = annNew
	rep, f := h.service().Reconcile(context.Background())
	if f != nil || rep.Forwarded != 1 || rep.Agreed != 1 || rep.Rows != 2 {
		t.Fatalf("report %+v, %v", rep, f)
	}
	if h.z.addrOf(10) != annNew || h.links.byUser["u2"].AgreedEmail != "bob.new@example.org" || h.links.byUser["u3"].AgreedEmail != "cat@example.org" {
		t.Errorf("Zulip 10 %s, links %+v", h.z.addrOf(10), h.links.byUser)
	}
	users2 := 0
	for _, r := range h.z.reqs {
		if r == "users" {
			users2++
		}
	}
	if users2 != 1 {
		t.Errorf("GET /users %d times, want 1", users2)
	}
	// The next scan finds nothing to do.
	if rep, _ := h.service().Reconcile(context.Background()); rep.Forwarded != 0 || rep.Agreed != 0 || rep.Rows != 0 {
		t.Errorf("second scan %+v", rep)
	}
	h.opts.SyncZulip = false
	if rep, f := h.service().Reconcile(context.Background()); f != nil || rep != (ReconcileReport{}) {
		t.Errorf("with sync off: %+v %v", rep, f)
	}
}
