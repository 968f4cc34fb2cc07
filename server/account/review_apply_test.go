package account

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Review: apply mode. These tests are written by a reviewer; each states
// what it expects of a change made in Zulip elsewhere and applied to
// Mattermost.

const reviewThird = "ann@third.example.org"

// zulipPatchesOf lists the PATCHes to account id (the permission probe
// excluded).
func reviewPatchesOf(h *harness, id string) []string {
	var out []string
	for _, p := range h.z.patches {
		if strings.HasPrefix(p, id+"->") {
			out = append(out, p)
		}
	}
	return out
}

// The applied change waits for Zulip (down at the checks). Meanwhile a
// Zulip administrator undoes the rename in Zulip (back to Ann's old
// address). When Zulip is back, the job must not apply the undone rename
// to both systems: Zulip is the origin of this change, and it no longer
// has the address.
func TestReviewApplyRetryDoesNotUndoAZulipRevert(t *testing.T) {
	h := applyHarness()
	h.z.errs["get:"+annNew] = errDown
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Change.State != StateWaitingForZulip {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	// Zulip's admin reverts the rename, and Zulip is reachable again.
	h.z.accounts[10].addr = ann
	delete(h.z.errs, "get:"+annNew)
	h.clock.advance(10 * time.Minute)
	runJob(t, h)
	if p := reviewPatchesOf(h, "10"); len(p) != 0 {
		t.Errorf("Zulip was changed back to the undone address: %v (Zulip now %s)", p, h.z.addrOf(10))
	}
	if got := h.mm.users["u1"].Email; got != ann {
		t.Errorf("Mattermost moved to %s, an address Zulip no longer has", got)
	}
}

// The same with a newer change in Zulip (annNew, then third) while the
// applied change waited: the job must not push annNew back into Zulip over
// the newer address.
func TestReviewApplyRetryDoesNotOverwriteANewerZulipChange(t *testing.T) {
	h := applyHarness()
	h.z.errs["get:"+annNew] = errDown
	if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); !ok || res.Change.State != StateWaitingForZulip {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	h.z.accounts[10].addr = reviewThird
	delete(h.z.errs, "get:"+annNew)
	h.clock.advance(10 * time.Minute)
	runJob(t, h)
	if p := reviewPatchesOf(h, "10"); len(p) != 0 {
		t.Errorf("Zulip's newer address was overwritten: %v (Zulip now %s)", p, h.z.addrOf(10))
	}
}

// With Require Email Verification: the applied change waits for the link
// sent to annNew; meanwhile Zulip is changed again (third). When the link
// is opened, the job must not push annNew back into Zulip.
func TestReviewApplyAfterTheLinkDoesNotOverwriteANewerZulipChange(t *testing.T) {
	h := applyHarness()
	h.mm.verify = true
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Change.State != StatePendingVerification {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	h.z.accounts[10].addr = reviewThird
	h.mm.users["u1"].Email = annNew // the link is opened
	h.clock.advance(time.Minute)
	runJob(t, h)
	if p := reviewPatchesOf(h, "10"); len(p) != 0 {
		t.Errorf("Zulip's newer address was overwritten: %v (Zulip now %s)", p, h.z.addrOf(10))
	}
}

// A Zulip change is applied between the scan's read (zulipChangeSeen) and
// the flow's check: Zulip moves on to third between the two reads. The flow
// must not write the older address into Zulip ("Zulip has the address
// already and is not changed again").
type reviewMovingZulip struct {
	*fakeZulip
	byID int
	move func()
}

func (z *reviewMovingZulip) GetUserByID(ctx context.Context, id int) (u zulip.User, err error) {
	u, err = z.fakeZulip.GetUserByID(ctx, id)
	z.byID++
	if z.byID == 1 && z.move != nil {
		z.move() // right after zulipChangeSeen read it
	}
	return u, err
}

func TestReviewApplyRaceDoesNotWriteZulip(t *testing.T) {
	h := applyHarness()
	mz := &reviewMovingZulip{fakeZulip: h.z}
	mz.move = func() { h.z.accounts[10].addr = reviewThird }
	o := h.opts
	o.Now = h.clock.now
	s := newTestService(h.deps(mz), o)
	res, _ := s.ApplyZulipChange(context.Background(), "u1")
	if p := reviewPatchesOf(h, "10"); len(p) != 0 {
		t.Errorf("apply mode wrote Zulip: %v (state %s, Zulip now %s, Mattermost %s)", p, res.Change.State, h.z.addrOf(10), h.mm.users["u1"].Email)
	}
}

// A Mattermost failure at the update itself (a passing database error) is
// something only an admin can fix, like the same failure at the checks
// (TestApplyWaitsForTheNextScan: "Mattermost cannot be read"): the next
// scan should try again. Here it is kept as applied and never tried
// again.
func TestReviewApplyMattermostUpdateFailureIsRetried(t *testing.T) {
	h := applyHarness()
	h.mm.updateErr = errors.New("database down")
	res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
	if !ok || res.Failure == nil || res.Failure.Code != CodeMattermostFailed {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	h.mm.updateErr = nil
	h.clock.advance(time.Hour)
	if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); !ok || res.Change.State != StateDone {
		t.Errorf("not tried again once Mattermost is back: %v %+v (marker %+v)", ok, res.Change, h.offers.byUser["u1"])
	}
}

// Changed in Mattermost by other means while the applied change waited for
// Zulip: the job ends it failed (changed meanwhile) and tells the user with
// an "applied" notice. (reply's TestReviewAppliedNoticeChangedMeanwhile
// checks the words of exactly this result.)
func TestReviewApplyChangedMeanwhileReachesTheUser(t *testing.T) {
	h := applyHarness()
	h.z.errs["get:"+annNew] = errDown
	if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); !ok || res.Change.State != StateWaitingForZulip {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	h.mm.users["u1"].Email = "ann.x@example.org"
	delete(h.z.errs, "get:"+annNew)
	h.clock.advance(10 * time.Minute)
	runJob(t, h)
	last := h.notes.sent[len(h.notes.sent)-1].n
	if last.Result.Change.Origin != OriginZulipElsewhere || last.Result.Change.State != StateFailed || last.Result.Failure == nil ||
		last.Result.Failure.Code != CodeChangedMeanwhile || last.Result.Failure.Detail != "ann.x@example.org" {
		t.Fatalf("last notice %+v", noteOf(last))
	}
}

// The link is opened, then Zulip's account is deactivated before the job
// brings Zulip along: Mattermost is put back, and with verification on the
// way back waits for a link to the old address. The user is told with an
// outcome notice of an applied change in rollback_pending_verification
// (reply's TestReviewAppliedNoticeRollbackLink: its text is empty, so
// nothing is posted).
func TestReviewApplyRollbackLinkReachesTheUser(t *testing.T) {
	h := applyHarness()
	h.mm.verify = true
	if res, ok := h.service().ApplyZulipChange(context.Background(), "u1"); !ok || res.Change.State != StatePendingVerification {
		t.Fatalf("apply %v: %+v (%v)", ok, res.Change, res.Failure)
	}
	h.z.accounts[10].addr = reviewThird
	h.z.accounts[10].inactive = true
	h.mm.users["u1"].Email = annNew
	h.clock.advance(time.Minute)
	runJob(t, h)
	last := h.notes.sent[len(h.notes.sent)-1].n
	if last.Result.Change.Origin != OriginZulipElsewhere || last.Result.Change.State != StateRollbackPendingVerification {
		t.Fatalf("last notice %+v", noteOf(last))
	}
}

// Something only an admin can fix in Zulip (the bot lost its permission to
// change emails) refuses the applied change at each scan or event, which is
// right (not kept, tried again), but each try counts against the user's
// hourly attempts, although the user asked for nothing: the user's own
// /account email is then refused as too many attempts.
func TestReviewApplyRetriesDoNotSpendTheUsersAttempts(t *testing.T) {
	h := applyHarness()
	for i := 0; i < MaxAttemptsPerHour; i++ {
		h.facts = NewZulipFacts(0)
		h.z.patchErrs = []error{errNoPerm}
		res, ok := h.service().ApplyZulipChange(context.Background(), "u1")
		if !ok || res.Failure == nil || res.Failure.Code != CodeZulipNoPermission {
			t.Fatalf("try %d: %v %+v (%v)", i, ok, res.Change, res.Failure)
		}
		h.clock.advance(2 * time.Minute)
		if i == MaxAttemptsPerHour-1 {
			break
		}
	}
	h.z.patchErrs = nil
	res := h.service().ChangeEmail(context.Background(), req("ann.own@example.org"))
	if res.Failure != nil && res.Failure.Code == CodeTooManyAttempts {
		t.Errorf("the user's own change is refused for attempts the scan made: %v (usage %d attempts)", res.Failure.Code, len(h.usage.usage["u1"].Attempts))
	}
}
