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
	t.Logf("reply: %s", res.Report())
}
