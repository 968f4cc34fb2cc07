package account

import (
	"context"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// errRateFarAhead is a 429 asking for ten days: more than any give-up time.
var errRateFarAhead = &zulip.RateLimitError{Op: "PATCH /api/v1/users/{id}", RetryAfter: 10 * 24 * time.Hour}

// scheduledByGiveUp checks that an open change's next attempt, and the
// job's next run, come no later than its give-up time.
func scheduledByGiveUp(t *testing.T, h *harness, c Change) {
	t.Helper()
	if c.GiveUpAt == nil || c.NextAttemptAt == nil || c.NextAttemptAt.After(*c.GiveUpAt) {
		t.Fatalf("next attempt %v, give up at %v: want a next attempt no later than the give-up time", c.NextAttemptAt, c.GiveUpAt)
	}
	if at, ok := h.service().NextDue(); !ok || at.After(*c.GiveUpAt) {
		t.Fatalf("the job is next due at %v (%v), after the give-up time %v", at, ok, *c.GiveUpAt)
	}
}

// A wait Zulip asks for that reaches past the give-up time never leaves a
// change open forever: the job looks at it at the give-up time and ends it.
func TestARetryNeverComesAfterTheGiveUpTime(t *testing.T) {
	t.Run("Mattermost changed: put back at the give-up time", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.z.patchErrs = []error{nil, errRateFarAhead}
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateMattermostChanged {
			t.Fatalf("state %s (%v), want mattermost_changed", res.Change.State, res.Failure)
		}
		before := stored(t, h, res.Change.ID)
		scheduledByGiveUp(t, h, before)

		h.clock.t = *before.GiveUpAt
		h.z.patchErrs = []error{errRateFarAhead} // Zulip still refuses
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Mattermost != StatusRolledBack || got.Code != CodeGaveUp || got.NextAttemptAt != nil {
			t.Fatalf("record %+v, want rolled back for having given up", got)
		}
		if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann {
			t.Errorf("emails: Mattermost %s, Zulip %s; want both the old one", h.mm.users["u1"].Email, h.z.addrOf(10))
		}
		if open, _ := h.rec.OpenChanges(); len(open) != 0 {
			t.Errorf("still open: %+v", open)
		}
		assertNotes(t, h, wantNote{state: StateRolledBack, code: CodeGaveUp})
	})
	t.Run("waiting for Zulip: failed at the give-up time, nothing changed", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.z.errs["settings"] = errRateFarAhead
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateWaitingForZulip {
			t.Fatalf("state %s (%v), want waiting_for_zulip", res.Change.State, res.Failure)
		}
		before := stored(t, h, res.Change.ID)
		scheduledByGiveUp(t, h, before)

		h.clock.t = *before.GiveUpAt
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateFailed || got.Code != CodeGaveUp || got.Mattermost != StatusUntouched || got.NextAttemptAt != nil {
			t.Fatalf("record %+v, want failed for having given up", got)
		}
		if h.mm.users["u1"].Email != ann || len(h.z.patches) != 0 {
			t.Errorf("something changed: Mattermost %s, Zulip patches %v", h.mm.users["u1"].Email, h.z.patches)
		}
		if open, _ := h.rec.OpenChanges(); len(open) != 0 {
			t.Errorf("still open: %+v", open)
		}
		assertNotes(t, h, wantNote{state: StateFailed, code: CodeGaveUp})
	})
	t.Run("a plain backoff near the end stops at the give-up time", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.t = before.GiveUpAt.Add(-10 * time.Second)
		h.z.errs["settings"] = errDown
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateWaitingForZulip || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(*got.GiveUpAt) {
			t.Fatalf("record %+v, want waiting with the next attempt at the give-up time %v", got, got.GiveUpAt)
		}
	})
}
