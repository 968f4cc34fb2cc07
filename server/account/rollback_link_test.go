package account

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Issue 13, point 1: with Require Email Verification on, Mattermost holds
// the rollback for a link mailed to the old address. The change waits for
// that link (the user is told which one), ends rolled_back when the old
// address is back, and needs an admin, with a code naming the case, once
// the link can no longer be opened.
func TestRollbackWaitsForItsConfirmationLink(t *testing.T) {
	// refusedAfterLink: Ann asks, opens the link, and Zulip then refuses
	// (someone took the address in Zulip meanwhile).
	refusedAfterLink := func(t *testing.T) (*harness, Change) {
		t.Helper()
		h := newHarness([]User{annUser()}, ann)
		h.mm.verify = true
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StatePendingVerification {
			t.Fatalf("state %s (%v), want pending_verification", res.Change.State, res.Failure)
		}
		h.mm.users["u1"].Email = annNew // the link is opened
		h.z.accounts[11] = &zAccount{id: 11, addr: annNew}
		h.clock.advance(time.Minute)
		runJob(t, h)
		got := stored(t, h, res.Change.ID)
		if got.State != StateRollbackPendingVerification || got.Mattermost != StatusRollbackPending || got.Zulip != StatusUntouched {
			t.Fatalf("record %+v, want rollback_pending_verification", got)
		}
		if got.GiveUpAt == nil || !got.GiveUpAt.Equal(h.clock.now().Add(VerificationLinkValidity+verificationMargin)) {
			t.Errorf("give up at %v, want the link's lifetime from now", got.GiveUpAt)
		}
		if got.LastError == nil || got.LastError.Code != CodeTakenInZulip || got.Code != "" {
			t.Errorf("last error %+v, code %q: want Zulip's refusal noted, no final code", got.LastError, got.Code)
		}
		if h.mm.updates[len(h.mm.updates)-1] != ann {
			t.Errorf("Mattermost updates %v: the last should ask for the old address back", h.mm.updates)
		}
		assertLastNote(t, h, wantNote{state: StateRollbackPendingVerification, code: CodeTakenInZulip, mattermost: StatusRollbackPending, zulip: StatusUntouched})
		if h.z.addrOf(10) != ann {
			t.Errorf("Zulip account 10 has %s, want %s", h.z.addrOf(10), ann)
		}
		return h, got
	}

	t.Run("the old address comes back: rolled back", func(t *testing.T) {
		h, before := refusedAfterLink(t)
		runJob(t, h) // link not opened yet: nothing moves, nobody is told again
		if got := stored(t, h, before.ID); got.Version != before.Version {
			t.Errorf("a change waiting for its link moved: %+v", got)
		}
		notes := len(h.notes.sent)
		h.mm.users["u1"].Email = ann // the rollback's link is opened
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Mattermost != StatusRolledBack || got.Zulip != StatusUntouched || got.Code != CodeTakenInZulip || got.GiveUpAt != nil {
			t.Errorf("record %+v, want rolled_back with Zulip's refusal", got)
		}
		if !strings.HasSuffix(stepNames(got), StepRollbackVerified) {
			t.Errorf("steps %s, want %s last", stepNames(got), StepRollbackVerified)
		}
		if len(h.notes.sent) != notes+1 {
			t.Fatalf("notes %v", h.notes.sent)
		}
		assertLastNote(t, h, wantNote{state: StateRolledBack, code: CodeTakenInZulip})
		if h.z.addrOf(10) != ann || h.mm.users["u1"].Email != ann {
			t.Errorf("end state: Zulip %s, Mattermost %s; want both %s", h.z.addrOf(10), h.mm.users["u1"].Email, ann)
		}
	})

	t.Run("the link is never opened: an admin must look", func(t *testing.T) {
		h, before := refusedAfterLink(t)
		h.clock.advance(VerificationLinkValidity + verificationMargin - time.Second)
		runJob(t, h)
		if got := stored(t, h, before.ID); got.State != StateRollbackPendingVerification {
			t.Fatalf("ended before the link's lifetime: %+v", got)
		}
		h.clock.advance(time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateNeedsAttention || got.Code != CodeRollbackLinkExpired || got.Mattermost != StatusRollbackFailed {
			t.Errorf("record %+v, want needs_attention with %s", got, CodeRollbackLinkExpired)
		}
		assertLastNote(t, h, wantNote{state: StateNeedsAttention, code: CodeRollbackLinkExpired, mattermost: StatusRollbackFailed})
		if !logHas(h, "error", "left Mattermost and Zulip different") {
			t.Errorf("no error line for the admin:\n%s", h.log)
		}
	})

	t.Run("changed another way meanwhile: an admin must look", func(t *testing.T) {
		h, before := refusedAfterLink(t)
		h.mm.users["u1"].Email = "ann@third.example.org"
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateNeedsAttention || got.Code != CodeChangedMeanwhile {
			t.Errorf("record %+v, want needs_attention, changed meanwhile", got)
		}
	})

	t.Run("cancel explains there is nothing to cancel", func(t *testing.T) {
		h, _ := refusedAfterLink(t)
		out := h.service().Cancel(context.Background(), "u1", "s-u1")
		if out.Outcome != CancelOutcomeRollbackLink || out.Change.OldEmail != ann {
			t.Errorf("cancel %+v", out)
		}
		if s := h.service().Status("u1"); s.Change.State != StateRollbackPendingVerification || s.Change.LastError == nil || s.Change.LastError.Code != CodeTakenInZulip {
			t.Errorf("status: %+v", s)
		}
	})
}

// assertLastNote checks the latest direct message to Ann, by its facts.
func assertLastNote(t *testing.T, h *harness, want wantNote) {
	t.Helper()
	if len(h.notes.sent) == 0 {
		t.Fatalf("no direct message, want one with %+v", want)
	}
	last := h.notes.sent[len(h.notes.sent)-1]
	if last.userID != "u1" || !want.matches(noteOf(last.n)) {
		t.Errorf("direct message %v, want to u1 with %+v", last, want)
	}
}

// logHas tells whether a log line at level holds msg.
func logHas(h *harness, level, msg string) bool {
	for _, l := range h.log.lines {
		if strings.HasPrefix(l, level+" ") && strings.Contains(l, msg) {
			return true
		}
	}
	return false
}
