package account

import (
	"context"
	"testing"
	"time"
)

// review2: an interrupted change ("started", the plugin stopped after
// Mattermost changed) gives Zulip the full retry time from when the job
// settles it (addbcf4's settleInterrupted: GiveUpAt = now + RetryFor), not
// from the request. After issue 14 it is counted from the request
// (retryNow: CreatedAt + RetryFor).

func review2Interrupted(t *testing.T) (*harness, Change) {
	t.Helper()
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
	h.mm.users["u1"].Email = annNew // Mattermost had changed when the plugin stopped
	return h, ch
}

// The plugin was down for more than the retry time: before, the job read
// both systems back and Zulip followed (done); now the give-up time is
// already past, so Mattermost is put back without Zulip ever being tried.
func TestReview2InterruptedAfterLongOutageStillLetsZulipFollow(t *testing.T) {
	h, before := review2Interrupted(t)
	h.clock.advance(DefaultRetryFor + time.Hour)
	runJob(t, h)
	got := stored(t, h, before.ID)
	if got.State != StateDone || h.z.addrOf(10) != annNew || h.mm.users["u1"].Email != annNew {
		t.Errorf("after a 25 h outage: state %s code %s, Mattermost %s, Zulip %s, patches %v; want done in both (addbcf4: GiveUpAt = now+RetryFor)",
			got.State, got.Code, h.mm.users["u1"].Email, h.z.addrOf(10), h.z.patches)
	}
}

// Within the retry time: the give-up time the record ends with is RetryFor
// after the job settled it, as before.
func TestReview2InterruptedGiveUpCountsFromTheSettling(t *testing.T) {
	h, before := review2Interrupted(t)
	h.clock.advance(interruptedAfter + time.Second)
	settled := h.clock.now()
	h.z.patchErrs = []error{errRate} // Zulip asks to wait: the change stays open
	runJob(t, h)
	got := stored(t, h, before.ID)
	want := settled.Add(DefaultRetryFor)
	if got.State != StateMattermostChanged || got.GiveUpAt == nil || !got.GiveUpAt.Equal(want) {
		t.Errorf("state %s, GiveUpAt %v; want mattermost_changed with GiveUpAt %v (created %v + RetryFor would be %v)",
			got.State, got.GiveUpAt, want, before.CreatedAt, before.CreatedAt.Add(DefaultRetryFor))
	}
}

// Zulip's retry time after Mattermost changed: counted afresh from the
// opened link (a pending change may carry the give-up time of the wait for
// Zulip that came before it), but an interrupted change that had one keeps
// it.
func TestZulipRetryTimeAfterMattermostChanged(t *testing.T) {
	t.Run("the link opened: the full time from now", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.mm.verify = true
		ch := waitingChange(t, h) // Zulip was down: a give-up time is set
		if ch.GiveUpAt == nil {
			t.Fatal("setup: no give-up time")
		}
		h.clock.advance(time.Hour)
		runJob(t, h) // Zulip is back: Mattermost mails the link
		if got := stored(t, h, ch.ID); got.State != StatePendingVerification {
			t.Fatalf("state %s", got.State)
		}
		h.clock.advance(20 * time.Hour)
		h.mm.users["u1"].Email = annNew // the link is opened
		h.z.errs["getid"] = errDown     // and Zulip is down again
		runJob(t, h)
		got := stored(t, h, ch.ID)
		if got.State != StateMattermostChanged || got.GiveUpAt == nil || !got.GiveUpAt.Equal(h.clock.now().Add(DefaultRetryFor)) {
			t.Errorf("state %s, give up at %v; want Zulip's full retry time from %v", got.State, got.GiveUpAt, h.clock.now())
		}
	})
	t.Run("interrupted with a give-up time: kept", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail}); err != nil {
			t.Fatal(err)
		}
		now := h.clock.now()
		giveUp := now.Add(DefaultRetryFor)
		ch := Change{ID: "c1", UserID: "u1", RequestedBy: "u1", OldEmail: ann, NewEmail: annNew, ZulipUserID: 10, State: StateStarted,
			Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now, GiveUpAt: &giveUp}
		if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
			t.Fatal(err)
		}
		h.mm.users["u1"].Email = annNew
		h.z.errs["getid"] = errDown
		h.clock.advance(interruptedAfter + time.Second)
		runJob(t, h)
		if got := stored(t, h, "c1"); got.GiveUpAt == nil || !got.GiveUpAt.Equal(giveUp) {
			t.Errorf("give up at %v, want %v kept", got.GiveUpAt, giveUp)
		}
	})
}
