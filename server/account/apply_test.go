package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// applyHarness: zulipChangedHarness with ZulipChangesElsewhere = apply.
func applyHarness() *harness {
	h := zulipChangedHarness()
	h.opts.ApplyZulipChanges = true
	return h
}

// Issue 15, apply mode: a change made in Zulip elsewhere is applied to
// Mattermost without asking, through the flow: a record with its origin,
// the audit, the agreed address, one notice; Zulip is not changed again,
// and the same address is not applied twice.
func TestApplyAZulipChange(t *testing.T) {
	h := applyHarness()
	aud := &memAuditor{}
	h.auditor = aud
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Change.State != StateDone || res.Failure != nil {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	got := stored(t, h, res.Change.ID)
	if got.Origin != OriginZulipElsewhere || got.RequestedBy != "" || got.OldEmail != ann || got.NewEmail != annNew || got.ZulipUserID != 10 ||
		got.Mattermost != StatusChanged || got.Zulip != StatusChanged || got.Code != "" || got.LastError != nil {
		t.Errorf("record %+v", got)
	}
	if s := stepNames(got); !strings.HasPrefix(s, StepFoundElsewhere) || !strings.HasSuffix(s, StepSyncZulip) {
		t.Errorf("steps %s", s)
	}
	if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew || agreedOf(h) != annNew {
		t.Errorf("Mattermost %s, Zulip %s, agreed %q: want all %s", h.mm.users["u1"].Email, h.z.addrOf(10), agreedOf(h), annNew)
	}
	if len(h.mm.updates) != 1 || h.mm.updates[0] != annNew {
		t.Errorf("Mattermost updates %v", h.mm.updates)
	}
	for _, p := range h.z.patches {
		if p != probe {
			t.Errorf("Zulip changed again: %s", p)
		}
	}
	if len(aud.events) != 1 || aud.events[0].Origin != OriginZulipElsewhere || aud.events[0].NewEmail != annNew || !aud.events[0].Success || aud.events[0].ActorID != "" {
		t.Errorf("audit %+v", aud.events)
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].userID != "u1" {
		t.Fatalf("notes %v", h.notes.sent)
	}
	if n := h.notes.sent[0].n; n.Kind != NoticeApplied || n.Result.Change.ID != res.Change.ID || n.Result.Change.State != StateDone {
		t.Errorf("notice %+v", n)
	}
	if o := h.offers.byUser["u1"]; o.State != OfferApplied || o.Email != annNew || o.Agreed != ann || o.ZulipUserID != 10 {
		t.Errorf("marker %+v", o)
	}
	if _, again := h.service().ApplyZulipChange(context.Background(), "u1"); again || len(h.notes.sent) != 1 || len(h.mm.updates) != 1 {
		t.Errorf("applied twice")
	}
	// An applied address has no buttons.
	if _, f := h.service().KeepOffer("u1", "s-u1", h.offers.byUser["u1"].ID); f == nil || f.Code != CodeOfferNotCurrent {
		t.Errorf("the applied marker could be answered: %v", f)
	}
}

// Nothing is offered in apply mode.
func TestApplyModeOffersNothing(t *testing.T) {
	h := applyHarness()
	if _, offered := h.service().OfferZulipChange(context.Background(), "u1"); offered || len(h.notes.sent) != 0 || len(h.offers.byUser) != 0 {
		t.Errorf("offered in apply mode: notes %v", h.notes.sent)
	}
}

// Zulip cannot be reached for the checks: the change is saved for the job
// (Mattermost untouched), the user is told it waits, and the scan leaves
// it to the job.
func TestApplyWaitsForZulip(t *testing.T) {
	h := applyHarness()
	h.z.errs["get:"+annNew] = errDown
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Change.State != StateWaitingForZulip || res.Change.Mattermost != StatusUntouched || h.mm.users["u1"].Email != ann {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	if got := stored(t, h, res.Change.ID); got.Origin != OriginZulipElsewhere || got.State != StateWaitingForZulip {
		t.Errorf("record %+v", got)
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].n.Kind != NoticeApplied || h.notes.sent[0].n.Result.Change.State != StateWaitingForZulip {
		t.Errorf("notes %v", h.notes.sent)
	}
	if h.offers.byUser["u1"].State != OfferApplied {
		t.Errorf("marker %+v", h.offers.byUser["u1"])
	}
}

// With Require Email Verification, the applied change waits for the link
// sent to the new address, like any change; Mattermost keeps the old one.
func TestApplyWaitsForTheLink(t *testing.T) {
	h := applyHarness()
	h.mm.verify = true
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Change.State != StatePendingVerification || res.Change.Mattermost != StatusPending {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != annNew || stored(t, h, res.Change.ID).Origin != OriginZulipElsewhere {
		t.Errorf("Mattermost %s, Zulip %s", h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].n.Kind != NoticeApplied || h.notes.sent[0].n.Result.Change.State != StatePendingVerification {
		t.Errorf("notes %v", h.notes.sent)
	}
	if h.offers.byUser["u1"].State != OfferApplied {
		t.Errorf("marker %+v", h.offers.byUser["u1"])
	}
	// The link is opened: the job finds Mattermost at the new address and
	// ends the change; Zulip has it already and is not changed again.
	h.mm.users["u1"].Email = annNew
	h.clock.advance(time.Minute)
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if got.State != StateDone || got.Mattermost != StatusChanged || got.Zulip != StatusChanged || got.Origin != OriginZulipElsewhere || agreedOf(h) != annNew {
		t.Errorf("after the link: %+v, agreed %q", got, agreedOf(h))
	}
	for _, p := range h.z.patches {
		if p != probe {
			t.Errorf("Zulip changed again: %s", p)
		}
	}
	if len(h.notes.sent) != 2 || h.notes.sent[1].n.Kind != NoticeOutcome || h.notes.sent[1].n.Result.Change.Origin != OriginZulipElsewhere {
		t.Errorf("notes %v", h.notes.sent)
	}
}

// What Mattermost cannot take is told to the user once and not tried again;
// nothing changes.
func TestApplyRefusedIsToldOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		code  Code
	}{
		{"taken in Mattermost", func(h *harness) { h.mm.users["u2"].Email = annNew }, CodeTakenInMattermost},
		{"an SSO user", func(h *harness) { h.mm.users["u1"].AuthService = "gitlab" }, CodeManagedBySSO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := applyHarness()
			tc.setup(h)
			res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
			if !ok || res.Change.State != StateRefused || res.Failure == nil || res.Failure.Code != tc.code {
				t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
			}
			if h.mm.users["u1"].Email != ann || len(h.mm.updates) != 0 || h.z.addrOf(10) != annNew || agreedOf(h) != ann || len(h.rec.saved) != 0 {
				t.Errorf("Mattermost %s (updates %v), Zulip %s, agreed %q, saves %d", h.mm.users["u1"].Email, h.mm.updates, h.z.addrOf(10), agreedOf(h), len(h.rec.saved))
			}
			if len(h.notes.sent) != 1 || h.notes.sent[0].n.Kind != NoticeApplied || h.notes.sent[0].n.Result.Failure.Code != tc.code {
				t.Fatalf("notes %v", h.notes.sent)
			}
			if _, again := h.service().ApplyZulipChange(context.Background(), "u1"); again || len(h.notes.sent) != 1 {
				t.Error("tried again")
			}
		})
	}
}

// Over the user's limits, or stopped by something only an admin can fix,
// nothing is kept nor told: the next scan tries again.
func TestApplyWaitsForTheNextScan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		clear func(h *harness)
		ok    bool
	}{
		{"over the daily limit", func(h *harness) {
			h.opts.MaxChangesPerDay = 1
			h.usage.usage["u1"] = UserUsage{Changes: []time.Time{h.clock.now()}}
		}, func(h *harness) { h.clock.t = h.clock.t.Add(25 * time.Hour) }, false},
		{"Mattermost cannot be read", func(h *harness) { h.mm.findErr = errors.New("database down") }, func(h *harness) { h.mm.findErr = nil }, true},
		{"Zulip down and the record cannot be saved", func(h *harness) {
			h.z.errs["get:"+annNew] = errDown
			h.rec.err = errors.New("kv down")
		}, func(h *harness) { delete(h.z.errs, "get:"+annNew); h.rec.err = nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := applyHarness()
			tc.setup(h)
			_, ok := h.service().ApplyZulipChange(context.Background(), "u1")
			if ok != tc.ok || len(h.notes.sent) != 0 || len(h.offers.byUser) != 0 || h.mm.users["u1"].Email != ann || len(h.rec.saved) != 0 {
				t.Fatalf("ok %v, notes %v, markers %v, Mattermost %s, saves %d", ok, h.notes.sent, h.offers.byUser, h.mm.users["u1"].Email, len(h.rec.saved))
			}
			// Once it passes, the next scan applies it.
			tc.clear(h)
			if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); !ok || res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || len(h.notes.sent) != 1 {
				t.Errorf("once it passes: %v %+v (%v), Mattermost %s", ok, res.Change, res.Failure, h.mm.users["u1"].Email)
			}
		})
	}
}

// What is not a change made in Zulip elsewhere is never applied.
func TestApplyLeavesAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
	}{
		{"report wins", func(h *harness) { h.opts.ReportZulipChanges = true }},
		{"ask mode", func(h *harness) { h.opts.ApplyZulipChanges = false }},
		{"sync off", func(h *harness) { h.opts.SyncZulip = false }},
		{"not linked", func(h *harness) { h.links = newMemLinks() }},
		{"no agreed address", func(h *harness) { h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10}) }},
		{"Zulip not changed", func(h *harness) { h.z.accounts[10].addr = ann }},
		{"Mattermost changed too", func(h *harness) { h.mm.users["u1"].Email = "ann.mm@example.org" }},
		{"Zulip hides the address", func(h *harness) { h.z.accounts[10].hidden = true }},
		{"Zulip account deactivated", func(h *harness) { h.z.accounts[10].inactive = true }},
		{"Zulip's id-based address", func(h *harness) { h.opts.ZulipHost = "zulip.test"; h.z.accounts[10].addr = "user10@zulip.test" }},
		{"outside the allowed domains", func(h *harness) { h.opts.AllowedDomains = []string{"example.org"} }},
		{"Mattermost user deactivated", func(h *harness) { h.mm.users["u1"].Deactivated = true }},
		{"an open change", func(h *harness) {
			ch := Change{ID: "c0", UserID: "u1", State: StateWaitingForZulip, NewEmail: "ann.other@example.org", CreatedAt: h.clock.now()}
			if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
				panic(err)
			}
		}},
		{"busy", func(h *harness) { h.locker.held["u1"] = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := applyHarness()
			tc.setup(h)
			if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); ok || len(h.notes.sent) != 0 || len(h.offers.byUser) != 0 || len(h.mm.updates) != 0 {
				t.Errorf("applied %+v, notes %v", res.Change, h.notes.sent)
			}
		})
	}
}

// The scan and Zulip's events apply in apply mode, once.
func TestScanAndEventsApply(t *testing.T) {
	h := applyHarness()
	rep, f := h.service().Reconcile(context.Background())
	if f != nil || rep.Applied != 1 || rep.Offered != 0 || h.mm.users["u1"].Email != annNew {
		t.Fatalf("scan %+v %v, Mattermost %s", rep, f, h.mm.users["u1"].Email)
	}
	if rep, _ := h.service().Reconcile(context.Background()); rep.Applied != 0 || len(h.notes.sent) != 1 {
		t.Errorf("second scan %+v, notes %d", rep, len(h.notes.sent))
	}
	h = applyHarness()
	if !h.service().ZulipAccountChanged(context.Background(), 10, annNew) || h.mm.users["u1"].Email != annNew || len(h.notes.sent) != 1 {
		t.Errorf("event: Mattermost %s, notes %v", h.mm.users["u1"].Email, h.notes.sent)
	}
	if h.service().ZulipAccountChanged(context.Background(), 10, annNew) || len(h.notes.sent) != 1 {
		t.Error("the same event applied twice")
	}
}
