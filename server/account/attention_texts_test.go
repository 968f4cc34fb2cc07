package account

import (
	"context"
	"testing"
	"time"
)

// After a lost answer, Mattermost's email is changed another way and Zulip
// cannot be read until the give-up time. The change needs an admin, but the
// bot says "Your Mattermost email is now <new>", while Mattermost has a
// third address.
func TestReviewChangedMeanwhileUnreadableZulipTextLies(t *testing.T) {
	const third = "ann@third.example.org"
	h := newHarness([]User{annUser()}, ann)
	h.z.patchErrs = []error{nil, errTimeout}
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	h.mm.users["u1"].Email = third
	h.z.errs["getid"] = errDown
	runJob(t, h)
	h.clock.advance(DefaultRetryFor)
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	if got.State != StateNeedsAttention {
		t.Fatalf("state %s", got.State)
	}
	// The bot tells what Mattermost has now, and that Zulip's answer is
	// unknown (reply's TestNoticeTexts: it never says "Your Mattermost
	// email is now <new>").
	want := wantNote{state: StateNeedsAttention, code: CodeChangedMeanwhile, detail: third, zulip: StatusUnknown}
	if last := lastNote(t, h); !want.matches(last) {
		t.Errorf("Mattermost has %s; the bot tells %+v", h.mm.users["u1"].Email, last)
	}
}

// Zulip's answer was lost (it did commit); an admin then turns sync off
// (Zulip misbehaves). The job ends the change done as a Mattermost-only
// change and tells the user "Zulip was not changed: change your email
// there too", while Zulip has the new address; the record says Zulip
// sync_disabled.
func TestReviewSyncTurnedOffAfterLostAnswerSaysZulipUntouched(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.patchErrs = []error{nil, errTimeout}
	h.z.applyLost = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
		t.Fatalf("change %+v", res.Change)
	}
	h.opts.SyncZulip = false
	runJob(t, h)
	got := stored(t, h, res.Change.ID)
	// The bot says "Zulip was not changed" when it tells a change done
	// without Zulip (reply's TestNoticeTexts).
	note := noteOf(h.notes.sent[0].n)
	if z := h.z.addrOf(10); z == annNew && (got.Zulip == StatusDisabled || note.state == StateDone && note.zulip != StatusChanged) {
		t.Errorf("Zulip has %s; record zulip=%s state=%s; the bot tells %+v", z, got.Zulip, got.State, note)
	}
}

// A change waiting for Zulip when sync is turned off is not made (it was to
// be made in both systems or not at all), and the user is told why.
func TestSyncTurnedOffWhileAChangeWaits(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	ch := waitingChange(t, h)
	h.opts.SyncZulip = false
	h.clock.advance(time.Hour)
	runJob(t, h)
	got := stored(t, h, ch.ID)
	if got.State != StateFailed || got.Code != CodeSyncTurnedOff || len(h.mm.updates) != 0 || len(h.z.patches) != 0 {
		t.Errorf("record %+v, updates %v, PATCHes %v", got, h.mm.updates, h.z.patches)
	}
	assertNotes(t, h, wantNote{state: StateFailed, code: CodeSyncTurnedOff})
}

// A change waiting for Zulip is checked against the allowed domains again
// when it is retried: the setting may have changed, or broken, since.
func TestWaitingChangeRecheckedAgainstAllowedDomains(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(o *Settings)
		want Code
	}{
		{"domain no longer allowed", func(o *Settings) { o.AllowedDomains = []string{"example.org"} }, CodeDomainNotAllowed},
		{"setting broken", func(o *Settings) { o.AllowedDomainsInvalid = []string{"@@"} }, CodeDomainsMisconfigured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			ch := waitingChange(t, h)
			tc.set(&h.opts)
			h.clock.advance(time.Hour)
			runJob(t, h)
			got := stored(t, h, ch.ID)
			if got.State != StateFailed || got.Code != tc.want || len(h.mm.updates) != 0 || len(h.z.patches) != 0 {
				t.Errorf("record %+v, updates %v, PATCHes %v", got, h.mm.updates, h.z.patches)
			}
		})
	}
}
