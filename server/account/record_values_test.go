package account

import (
	"context"
	"errors"
	"testing"
	"time"
)

// review2: values a record ends with that differ from addbcf4 for the
// same scenario. Each test states what addbcf4 stored.

// Zulip refuses when the job retries after Mattermost changed: Mattermost
// is put back. addbcf4's rollbackMattermost left GiveUpAt as it was (only
// followRollback cleared it); rollBack now clears it, so the rolled_back
// record (and GET /status's JSON) loses give_up_at.
func TestReview2RolledBackByTheJobKeepsItsGiveUpTime(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	before := mattermostChanged(t, h)
	if before.GiveUpAt == nil {
		t.Fatalf("setup: no give-up time %+v", before)
	}
	h.clock.advance(31 * time.Second)
	h.z.patchErrs = []error{errTaken}
	runJob(t, h)
	got := stored(t, h, before.ID)
	if got.State != StateRolledBack {
		t.Fatalf("state %s, want rolled_back", got.State)
	}
	if got.GiveUpAt == nil || !got.GiveUpAt.Equal(*before.GiveUpAt) {
		t.Errorf("rolled_back record's GiveUpAt %v, want %v as addbcf4 kept it", got.GiveUpAt, *before.GiveUpAt)
	}
}

// Mattermost refuses the update, or accepts it and changes nothing:
// addbcf4's applyMattermost moved the change to failed without noting a
// last error (LastError nil). Every ending move now notes why, so a record
// always says it in last_error (kept on purpose: consistent records).
func TestReview2MattermostRefusalNotesWhy(t *testing.T) {
	for name, setup := range map[string]func(*fakeMattermost){
		"update fails":    func(mm *fakeMattermost) { mm.updateErr = errors.New("database down") },
		"nothing changed": func(mm *fakeMattermost) { mm.keepEmail = true },
		// "cannot be read back" is gone: the server's answer to the update
		// says where the email stands (issue 17).
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			setup(h.mm)
			res := h.service().ChangeEmail(context.Background(), req(annNew))
			got := stored(t, h, res.Change.ID)
			if got.State != StateFailed && got.State != StateNeedsAttention {
				t.Fatalf("state %s (%v)", got.State, res.Failure)
			}
			if got.LastError == nil || got.LastError.Code != got.Code || got.Code == "" {
				t.Errorf("%s record's LastError %+v, want its code %s", got.State, got.LastError, got.Code)
			}
		})
	}
}

// The rollback's link is never opened: addbcf4 ended the change
// needs_attention with code rollback_link_expired but kept Zulip's refusal
// as the last error ("why Zulip did not take it"); needAttention now
// overwrites it with rollback_link_expired.
func TestReview2ExpiredRollbackLinkKeepsZulipsRefusalAsLastError(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.mm.verify = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StatePendingVerification {
		t.Fatalf("state %s", res.Change.State)
	}
	h.mm.users["u1"].Email = annNew
	h.z.accounts[11] = &zAccount{id: 11, addr: annNew}
	h.clock.advance(time.Minute)
	runJob(t, h)
	if got := stored(t, h, res.Change.ID); got.State != StateRollbackPendingVerification {
		t.Fatalf("setup: %s", got.State)
	}
	h.clock.advance(VerificationLinkValidity + verificationMargin)
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if got.State != StateNeedsAttention || got.Code != CodeRollbackLinkExpired {
		t.Fatalf("state %s code %s", got.State, got.Code)
	}
	if got.LastError == nil || got.LastError.Code != CodeTakenInZulip {
		t.Errorf("LastError %+v, want Zulip's refusal (%s) kept as addbcf4 did", got.LastError, CodeTakenInZulip)
	}
}

// An interrupted change whose Mattermost email was changed to a third
// address, when Zulip hides the account's address from the bot: addbcf4
// ended it needs_attention with Zulip's status as it was ("untouched"),
// and the bot's text said "Your accounts now differ … while Zulip still
// has <old>". The readback now sets Zulip "unknown", which words the
// other text ("cannot tell whether Zulip took …"). Kept on purpose: an
// interrupted change may have reached Zulip, so "still has <old>" was a
// guess; the record now says Zulip's outcome is unknown.
func TestReview2InterruptedChangedElsewhereHiddenZulipIsUnknown(t *testing.T) {
	h, before := review2Interrupted(t)
	h.mm.users["u1"].Email = "third@example.org"
	h.z.accounts[10].hidden = true
	h.clock.advance(interruptedAfter + time.Second)
	runJob(t, h)
	got := stored(t, h, before.ID)
	if got.State != StateNeedsAttention || got.Code != CodeChangedMeanwhile {
		t.Fatalf("state %s code %s", got.State, got.Code)
	}
	if got.Zulip != StatusUnknown {
		t.Errorf("zulip %s, want %s", got.Zulip, StatusUnknown)
	}
}

// The same, when Zulip cannot be read: addbcf4 retried it later with
// Zulip's status left "untouched"; it is now set "unknown" on the first
// run (kept on purpose, as above).
func TestReview2InterruptedChangedElsewhereUnreadableZulipIsUnknown(t *testing.T) {
	h, before := review2Interrupted(t)
	h.mm.users["u1"].Email = "third@example.org"
	h.z.errs["getid"] = errDown
	h.clock.advance(interruptedAfter + time.Second)
	runJob(t, h)
	got := stored(t, h, before.ID)
	if got.State != StateStarted || got.NextAttemptAt == nil {
		t.Fatalf("state %s next %v", got.State, got.NextAttemptAt)
	}
	if got.Zulip != StatusUnknown {
		t.Errorf("zulip %s, want %s", got.Zulip, StatusUnknown)
	}
}

// An interrupted change found only after its retry time (the plugin was
// down a day), whose Mattermost email went elsewhere while Zulip cannot be
// read: addbcf4's retryOrAttention set GiveUpAt (CreatedAt + RetryFor)
// before it handed the change to an admin; the record now ends without one.
func TestReview2AttentionAtGiveUpRecordsTheGiveUpTime(t *testing.T) {
	h, before := review2Interrupted(t)
	h.mm.users["u1"].Email = "third@example.org"
	h.z.errs["getid"] = errDown
	h.clock.advance(DefaultRetryFor + time.Hour)
	runJob(t, h)
	got := stored(t, h, before.ID)
	if got.State != StateNeedsAttention {
		t.Fatalf("state %s", got.State)
	}
	want := before.CreatedAt.Add(DefaultRetryFor)
	if got.GiveUpAt == nil || !got.GiveUpAt.Equal(want) {
		t.Errorf("GiveUpAt %v, want %v as addbcf4 stored", got.GiveUpAt, want)
	}
}
