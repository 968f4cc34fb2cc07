package account

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Issue 13, point 6: a lost answer does not hold the command. The reply
// comes after the one PATCH (no repeats in line), says Zulip is being
// checked and a message follows; the job settles it at once and sends the
// outcome as a direct message.
func TestLostAnswerIsSettledByTheJob(t *testing.T) {
	tests := []struct {
		name      string
		setupZ    func(z *fakeZulip)
		wantState State
		wantCode  Code
		wantMM    string
		wantZulip string
		wantNote  wantNote
	}{
		{"Zulip committed late: done", func(z *fakeZulip) { z.patchErrs = []error{nil, errTimeout}; z.applyLost = true },
			StateDone, "", annNew, annNew, wantNote{state: StateDone}},
		{"Zulip did not take it and refuses the repeat: rolled back", func(z *fakeZulip) {
			z.patchErrs = []error{nil, errTimeout}
			z.onPatch = func() { // the address is taken in Zulip while the answer is lost
				if len(z.patches) == 2 {
					z.accounts[11] = &zAccount{id: 11, addr: annNew}
				}
			}
		}, StateRolledBack, CodeTakenInZulip, ann, ann, wantNote{state: StateRolledBack, code: CodeTakenInZulip}},
		{"Zulip did not take it, the repeat does: done", func(z *fakeZulip) { z.patchErrs = []error{nil, err500} },
			StateDone, "", annNew, annNew, wantNote{state: StateDone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			tc.setupZ(h.z)
			res := h.service().ChangeEmail(context.Background(), req(annNew))

			if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown || res.Change.Mattermost != StatusChanged {
				t.Fatalf("change %+v, want mattermost_changed with Zulip unknown", res.Change)
			}
			if got := strings.Join(h.z.patches, ","); got != probe+",10->"+annNew {
				t.Errorf("PATCHes during the command = %s, want the probe and one change", got)
			}
			if res.Change.NextAttemptAt == nil || !res.Change.NextAttemptAt.Equal(h.clock.now()) || res.Change.Attempts != 0 {
				t.Errorf("next attempt %v after %d attempts, want now after 0", res.Change.NextAttemptAt, res.Change.Attempts)
			}
			if res.Change.GiveUpAt == nil || !res.Change.GiveUpAt.Equal(res.Change.CreatedAt.Add(DefaultRetryFor)) {
				t.Errorf("give up at %v", res.Change.GiveUpAt)
			}
			// The reply says Zulip is being checked (reply's TestEmailReplies).
			if res.Change.ID == "" || res.Change.OldEmail != ann || res.Change.NewEmail != annNew {
				t.Errorf("change %+v", res.Change)
			}
			assertRecord(t, stored(t, h, res.Change.ID), res.Change)
			assertNotes(t, h) // nothing yet

			runJob(t, h)

			got := stored(t, h, res.Change.ID)
			if got.State != tc.wantState || got.Code != tc.wantCode {
				t.Errorf("record %+v, want %s %q", got, tc.wantState, tc.wantCode)
			}
			if h.mm.users["u1"].Email != tc.wantMM || h.z.addrOf(10) != tc.wantZulip {
				t.Errorf("Mattermost %s, Zulip %s; want %s, %s", h.mm.users["u1"].Email, h.z.addrOf(10), tc.wantMM, tc.wantZulip)
			}
			assertNotes(t, h, tc.wantNote)
		})
	}
}

// Issue 13, point 2: after a lost answer, Mattermost's email changed by
// other means. Zulip is read first: if it took the new address, the
// systems differ and the change needs an admin, never "nothing changed".
func TestChangedMeanwhileAfterALostAnswerReadsZulip(t *testing.T) {
	const third = "ann@third.example.org"
	for _, tc := range []struct {
		name      string
		committed bool
		zulipDown bool
		wantState State
		wantZ     SystemStatus
	}{
		{"Zulip took it: needs attention", true, false, StateNeedsAttention, StatusChanged},
		{"Zulip kept the old address: stopped", false, false, StateFailed, StatusUntouched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			h.z.patchErrs = []error{nil, errTimeout}
			h.z.applyLost = tc.committed
			res := h.service().ChangeEmail(context.Background(), req(annNew))
			if res.Change.State != StateMattermostChanged {
				t.Fatalf("state %s", res.Change.State)
			}
			h.mm.users["u1"].Email = third
			runJob(t, h)
			got := stored(t, h, res.Change.ID)
			if got.State != tc.wantState || got.Zulip != tc.wantZ || got.Code != CodeChangedMeanwhile {
				t.Errorf("record %+v, want %s with Zulip %s", got, tc.wantState, tc.wantZ)
			}
			if len(h.z.patches) != 2 {
				t.Errorf("PATCHes %v: the job must not change Zulip", h.z.patches)
			}
			// Told what Mattermost has now and what Zulip did, never that
			// nothing was changed (reply's TestNoticeTexts).
			assertNotes(t, h, wantNote{state: tc.wantState, code: CodeChangedMeanwhile, detail: third, zulip: tc.wantZ})
		})
	}
	t.Run("Zulip cannot be read: tried again, an admin at the give-up time", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.z.patchErrs = []error{nil, errTimeout}
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		h.mm.users["u1"].Email = third
		h.z.errs["getid"] = errDown
		runJob(t, h)
		got := stored(t, h, res.Change.ID)
		if got.State != StateMattermostChanged || got.Attempts != 1 || got.NextAttemptAt == nil {
			t.Fatalf("record %+v, want a retry", got)
		}
		h.clock.advance(DefaultRetryFor)
		runJob(t, h)
		if got = stored(t, h, res.Change.ID); got.State != StateNeedsAttention {
			t.Errorf("record %+v, want needs_attention", got)
		}
	})
	t.Run("an interrupted change: Zulip took it", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail}); err != nil {
			t.Fatal(err)
		}
		now := h.clock.now()
		ch := Change{ID: "c1", UserID: "u1", RequestedBy: "u1", OldEmail: ann, NewEmail: annNew, ZulipUserID: 10, State: StateStarted,
			Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now}
		if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
			t.Fatal(err)
		}
		h.z.accounts[10].addr = annNew
		h.mm.users["u1"].Email = third
		h.clock.advance(interruptedAfter + time.Second)
		runJob(t, h)
		got := stored(t, h, "c1")
		if got.State != StateNeedsAttention || got.Zulip != StatusChanged || got.Code != CodeChangedMeanwhile {
			t.Errorf("record %+v, want needs_attention", got)
		}
		assertNotes(t, h, wantNote{state: StateNeedsAttention, code: CodeChangedMeanwhile, detail: third, zulip: StatusChanged})
	})
}

// Issue 13, point 3: a change asked for while sync was off ends as a
// Mattermost-only change when its link is opened after sync was turned
// on: no impossible rollback, Zulip untouched, and the user is told.
func TestSyncTurnedOnWhileALinkIsPending(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.mm.verify = true
	h.opts.SyncZulip = false
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StatePendingVerification || res.Change.Zulip != StatusDisabled {
		t.Fatalf("change %+v", res.Change)
	}
	h.opts.SyncZulip = true
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
		t.Fatal(err)
	}
	h.mm.users["u1"].Email = annNew // the link is opened
	runJob(t, h)

	got := stored(t, h, res.Change.ID)
	if got.State != StateDone || got.Zulip != StatusDisabled || got.Mattermost != StatusChanged || got.Code != "" {
		t.Errorf("record %+v, want done, Mattermost only", got)
	}
	if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != ann || len(h.z.patches) != 0 {
		t.Errorf("Mattermost %s, Zulip %s, PATCHes %v: want the confirmed change kept and Zulip untouched", h.mm.users["u1"].Email, h.z.addrOf(10), h.z.patches)
	}
	assertNotes(t, h, wantNote{state: StateDone, zulip: StatusDisabled})
}

// At the give-up time, a change whose Mattermost email was changed by
// other means is not put back over that change.
func TestGiveUpDoesNotUndoAChangeMadeElsewhere(t *testing.T) {
	const third = "ann@third.example.org"
	h := newHarness([]User{annUser()}, ann)
	ch := mattermostChanged(t, h)
	h.mm.users["u1"].Email = third
	h.clock.t = *ch.GiveUpAt
	runJob(t, h)
	got := stored(t, h, ch.ID)
	if got.State != StateFailed || got.Code != CodeChangedMeanwhile || h.mm.users["u1"].Email != third || h.z.addrOf(10) != ann {
		t.Errorf("record %+v, Mattermost %s, Zulip %s: want failed, the other change kept", got, h.mm.users["u1"].Email, h.z.addrOf(10))
	}
	for _, u := range h.mm.updates[1:] {
		t.Errorf("Mattermost was written again: %s", u)
	}
}
