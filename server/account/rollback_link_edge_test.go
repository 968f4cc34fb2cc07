package account

import (
	"context"
	"strings"
	"testing"
)

// Require Email Verification is turned on while a change is in flight
// (between Mattermost's direct change and Zulip's clear refusal). The
// rollback is then held for a link, and rollbackMattermost moves the
// change started -> rollback_pending_verification, a move the table does
// not allow: s.move refuses it, and the record is saved as "started" with
// Mattermost "rollback_pending_verification" and a give-up time, while the
// user's reply says something else.
func TestReviewRollbackHeldFromStartedIsARefusedMove(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.patchErrs = []error{nil, errTaken}
	h.z.onPatch = func() {
		if len(h.z.patches) == 2 {
			h.mm.verify = true // an admin turns verification on meanwhile
		}
	}
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	got := stored(t, h, res.Change.ID)
	if strings.Contains(h.log.String(), "impossible state change refused") {
		t.Errorf("a move the table refuses:\n%s", h.log.String())
	}
	if got.State != StateRollbackPendingVerification {
		t.Errorf("stored state=%s mattermost=%s zulip=%s, want rollback_pending_verification", got.State, got.Mattermost, got.Zulip)
	}
	t.Logf("reply's result: state=%s mattermost=%s zulip=%s failure=%v", res.Change.State, res.Change.Mattermost, res.Change.Zulip, res.Failure)
}

// A change waits for its rollback link (Zulip refused after the
// confirmation link), then Mattermost's email is changed another way. The
// change ends needs_attention, but the bot tells the user "Your Mattermost
// email is now <new> ... Zulip did not answer in time, so it may or may not
// have <new>": Mattermost has a third address, and Zulip clearly refused.
func TestReviewRollbackLinkChangedMeanwhileTextLies(t *testing.T) {
	const third = "ann@third.example.org"
	h := newHarness([]User{annUser()}, ann)
	h.mm.verify = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StatePendingVerification {
		t.Fatalf("state %s", res.Change.State)
	}
	h.mm.users["u1"].Email = annNew // the link is opened
	h.z.accounts[11] = &zAccount{id: 11, addr: annNew}
	runJob(t, h)
	if got := stored(t, h, res.Change.ID); got.State != StateRollbackPendingVerification {
		t.Fatalf("setup: state %s", got.State)
	}
	h.mm.users["u1"].Email = third
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if got.State != StateNeedsAttention {
		t.Fatalf("state %s", got.State)
	}
	// Told the third address, never "may or may not have" nor "did not
	// answer in time" (reply's TestNoticeTexts words these facts).
	if last := lastNote(t, h); !(wantNote{state: StateNeedsAttention, code: CodeChangedMeanwhile, detail: third}).matches(last) {
		t.Errorf("Mattermost has %s, Zulip %s (Zulip refused clearly); the bot tells %+v", h.mm.users["u1"].Email, h.z.addrOf(10), last)
	}
	if got.Mattermost == StatusRollbackPending {
		t.Errorf("final record keeps mattermost=%s", got.Mattermost)
	}
}
