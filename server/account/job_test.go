package account

import (
	"context"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var allStates = []State{
	StateNew, StateRefused, StateStarted, StateWaitingForZulip, StatePendingVerification, StateMattermostChanged,
	StateDone, StateRolledBack, StateFailed, StateExpired, StateCancelled, StateNeedsAttention, StateRollbackPendingVerification,
}

// Every move in the table is allowed; every other pair is refused with an
// ImpossibleTransitionError and leaves the change as it was.
func TestStateMachine(t *testing.T) {
	allowed := map[[2]State]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			allowed[[2]State{from, to}] = true
		}
	}
	for _, from := range allStates {
		for _, to := range allStates {
			ch := Change{ID: "c1", State: from}
			err := ch.moveTo(to)
			if allowed[[2]State{from, to}] {
				if err != nil || ch.State != to {
					t.Errorf("%s -> %s: %v, state %s; want allowed", from, to, err, ch.State)
				}
				continue
			}
			var ite *ImpossibleTransitionError
			if !errors.As(err, &ite) || ite.From != from || ite.To != to || ch.State != from {
				t.Errorf("%s -> %s: err %v, state %s; want refused", from, to, err, ch.State)
			}
		}
	}
	// Final states have no way out; open ones are exactly those the job carries on.
	for _, s := range []State{StateDone, StateRolledBack, StateFailed, StateExpired, StateCancelled, StateNeedsAttention, StateRefused} {
		if len(transitions[s]) != 0 || s.Open() {
			t.Errorf("%s: moves %v, open %v; want a final state", s, transitions[s], s.Open())
		}
	}
	for _, s := range []State{StateStarted, StateWaitingForZulip, StatePendingVerification, StateMattermostChanged, StateRollbackPendingVerification} {
		if !s.Open() {
			t.Errorf("%s is not open", s)
		}
	}
	// A few moves that would hide a change: all refused.
	for _, m := range [][2]State{
		{StateMattermostChanged, StateCancelled}, {StatePendingVerification, StateCancelled},
		{StateDone, StateMattermostChanged}, {StateRolledBack, StateStarted}, {StateWaitingForZulip, StateDone},
		{StateRollbackPendingVerification, StateDone}, {StateRollbackPendingVerification, StateCancelled},
	} {
		if CanMove(m[0], m[1]) {
			t.Errorf("%s -> %s is allowed", m[0], m[1])
		}
	}
}

func TestImpossibleMoveIsLoggedAndRefused(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	svc := h.service()
	ch := Change{ID: "c9", State: StateDone, Mattermost: StatusChanged, Zulip: StatusChanged}
	before := ch.clone()
	if svc.moved(ch.followLater(h.clock.now(), StepSyncZulip, newFailure(CodeZulipUnavailable, nil), StatusUnknown, svc.retryNow(&ch))) {
		t.Fatalf("moved to %s", ch.State)
	}
	if !reflect.DeepEqual(ch, before) {
		t.Errorf("a refused move changed the record:\n%+v\n%+v", ch, before)
	}
	if l := h.log.String(); !strings.HasPrefix(l, "error account sync: impossible state change refused") || !strings.Contains(l, "c9") {
		t.Errorf("log = %s", l)
	}
}

func TestBackoffSchedule(t *testing.T) {
	first, most := 30*time.Second, 30*time.Minute
	for _, tc := range []struct {
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, 30 * time.Second}, {2, 0, time.Minute}, {3, 0, 2 * time.Minute}, {6, 0, 16 * time.Minute},
		{7, 0, 30 * time.Minute}, {40, 0, 30 * time.Minute},
		{1, 1500 * time.Millisecond, 30 * time.Second}, // a short Retry-After does not shorten the backoff
		{1, 95 * time.Second, 95 * time.Second},        // a long one is honoured
	} {
		if got := backoff(tc.n, first, most, tc.retryAfter, nil); got != tc.want {
			t.Errorf("backoff(%d, retry-after %s) = %s, want %s", tc.n, tc.retryAfter, got, tc.want)
		}
	}
	// Jitter stays within a fifth either way and does vary.
	seen := map[time.Duration]bool{}
	for range 200 {
		d := backoff(2, first, most, 0, RandomJitter)
		if d < 48*time.Second || d > 72*time.Second {
			t.Fatalf("jittered backoff %s outside 48s..72s", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("jitter gave only %d different waits", len(seen))
	}
}

// waitingChange makes Ann ask while Zulip is down: a change waiting for
// Zulip, saved, nothing changed.
func waitingChange(t *testing.T, h *harness) Change {
	t.Helper()
	h.z.errs["settings"] = errDown
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	delete(h.z.errs, "settings")
	if res.Change.State != StateWaitingForZulip {
		t.Fatalf("state %s (%v), want waiting", res.Change.State, res.Failure)
	}
	return stored(t, h, res.Change.ID)
}

func stored(t *testing.T, h *harness, id string) Change {
	t.Helper()
	c, ok, _ := h.rec.GetChange(id)
	if !ok {
		t.Fatalf("change %s not stored", id)
	}
	return c
}

func runJob(t *testing.T, h *harness) JobReport {
	t.Helper()
	rep, err := h.service().RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func stepNames(c Change) string {
	var names []string
	for _, s := range c.Steps {
		n := s.Name
		if !s.OK {
			n += "!" + string(s.Code)
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// assertNotes checks the bot sent u1 exactly the notices wanted (none when
// none is), by their facts; reply's TestNoticeTexts checks their words.
func assertNotes(t *testing.T, h *harness, want ...wantNote) {
	t.Helper()
	if len(h.notes.sent) != len(want) {
		t.Fatalf("direct messages %v, want %d", h.notes.sent, len(want))
	}
	for i, w := range want {
		if got := h.notes.sent[i]; got.userID != "u1" || !w.matches(noteOf(got.n)) {
			t.Errorf("direct message %d: %v, want to u1 with %+v", i, got, w)
		}
	}
}

// lastNote is the facts of the last notice the bot sent.
func lastNote(t *testing.T, h *harness) wantNote {
	t.Helper()
	if len(h.notes.sent) == 0 {
		t.Fatal("no direct message sent")
	}
	return noteOf(h.notes.sent[len(h.notes.sent)-1].n)
}

func TestJobRetriesAChangeWaitingForZulip(t *testing.T) {
	t.Run("not due yet: untouched", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.advance(29 * time.Second)
		runJob(t, h)
		if after := stored(t, h, before.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("record changed before it was due:\n%+v\n%+v", before, after)
		}
		assertNotes(t, h)
	})
	t.Run("Zulip back: made in both systems, user told", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.advance(31 * time.Second)
		rep := runJob(t, h)
		got := stored(t, h, before.ID)
		if rep.Advanced != 1 || got.State != StateDone || got.Mattermost != StatusChanged || got.Zulip != StatusChanged || got.Code != "" {
			t.Fatalf("report %+v, record %+v", rep, got)
		}
		if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
			t.Errorf("emails: Mattermost %s, Zulip %s", h.mm.users["u1"].Email, h.z.addrOf(10))
		}
		if got.NextAttemptAt != nil || got.Attempts != 1 || got.LastError == nil || got.LastError.Code != CodeZulipUnavailable {
			t.Errorf("retry fields: next %v attempts %d last %+v", got.NextAttemptAt, got.Attempts, got.LastError)
		}
		if s := stepNames(got); s != "validate,check_mattermost,check_zulip!zulip_unavailable,validate,check_mattermost,check_zulip,apply_mattermost,sync_zulip" {
			t.Errorf("steps %s", s)
		}
		if open, _ := h.rec.OpenChanges(); len(open) != 0 {
			t.Errorf("still open: %+v", open)
		}
		assertNotes(t, h, wantNote{state: StateDone, zulip: StatusChanged, id: before.ID})
	})
	t.Run("still down: next try later, backing off", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.advance(31 * time.Second)
		h.z.errs["settings"] = errDown
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateWaitingForZulip || got.Attempts != 2 || !got.NextAttemptAt.Equal(h.clock.now().Add(time.Minute)) {
			t.Errorf("record %+v, want waiting, 2 attempts, next in a minute", got)
		}
		if h.mm.users["u1"].Email != ann || len(h.z.patches) != 0 {
			t.Errorf("something changed: Mattermost %s, patches %v", h.mm.users["u1"].Email, h.z.patches)
		}
		assertNotes(t, h)
	})
	t.Run("retry time runs out: failed, nothing changed, user told", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.advance(DefaultRetryFor)
		h.z.errs["settings"] = errDown
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateFailed || got.Code != CodeGaveUp || got.Mattermost != StatusUntouched || got.NextAttemptAt != nil {
			t.Errorf("record %+v", got)
		}
		if h.mm.users["u1"].Email != ann {
			t.Errorf("Mattermost changed to %s", h.mm.users["u1"].Email)
		}
		assertNotes(t, h, wantNote{state: StateFailed, code: CodeGaveUp, mattermost: StatusUntouched})
	})
	t.Run("a permanent refusal at the checks: failed", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann, "other@x.org")
		before := waitingChange(t, h)
		h.z.accounts[11].addr = annNew // someone took the address meanwhile
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateFailed || got.Code != CodeTakenInZulip || h.mm.users["u1"].Email != ann {
			t.Errorf("record %+v, Mattermost %s", got, h.mm.users["u1"].Email)
		}
		assertNotes(t, h, wantNote{state: StateFailed, code: CodeTakenInZulip})
	})
	t.Run("the email changed by other means meanwhile: failed", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.mm.users["u1"].Email = "elsewhere@example.org"
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateFailed || got.Code != CodeChangedMeanwhile || len(h.z.patches) != 0 {
			t.Errorf("record %+v, patches %v", got, h.z.patches)
		}
		assertNotes(t, h, wantNote{state: StateFailed, code: CodeChangedMeanwhile, detail: "elsewhere@example.org"})
	})
	t.Run("user busy: skipped this run", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		h.clock.advance(31 * time.Second)
		h.locker.held["u1"] = true
		if rep := runJob(t, h); rep.Busy != 1 || rep.Advanced != 0 {
			t.Errorf("report %+v", rep)
		}
		if got := stored(t, h, before.ID); got.Version != before.Version {
			t.Errorf("record saved while the user was busy")
		}
	})
}

// mattermostChanged makes Ann's change reach Mattermost while Zulip
// answers 429 at the final PATCH.
func mattermostChanged(t *testing.T, h *harness) Change {
	t.Helper()
	h.z.patchErrs = []error{nil, errRate}
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateMattermostChanged {
		t.Fatalf("state %s (%v)", res.Change.State, res.Failure)
	}
	return stored(t, h, res.Change.ID)
}

func TestJobBringsZulipAlong(t *testing.T) {
	t.Run("Zulip takes it: done", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateDone || got.Zulip != StatusChanged || h.z.addrOf(10) != annNew || h.mm.users["u1"].Email != annNew {
			t.Errorf("record %+v; Zulip %s", got, h.z.addrOf(10))
		}
		if want := []string{probe, "10->" + annNew, "10->" + annNew}; !reflect.DeepEqual(h.z.patches, want) {
			t.Errorf("patches %v, want %v", h.z.patches, want)
		}
		assertNotes(t, h, wantNote{state: StateDone})
	})
	t.Run("Zulip already shows it: done without a PATCH", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.z.accounts[10].addr = annNew
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		if got := stored(t, h, before.ID); got.State != StateDone || len(h.z.patches) != 2 {
			t.Errorf("record %+v, patches %v", got, h.z.patches)
		}
	})
	t.Run("Zulip refuses for good: Mattermost put back", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.z.patchErrs = []error{errTaken}
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Mattermost != StatusRolledBack || got.Code != CodeTakenInZulip || h.mm.users["u1"].Email != ann {
			t.Errorf("record %+v, Mattermost %s", got, h.mm.users["u1"].Email)
		}
		assertNotes(t, h, wantNote{state: StateRolledBack, code: CodeTakenInZulip})
	})
	t.Run("the link changed meanwhile: Zulip untouched, Mattermost put back", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann, "bob@example.org")
		before := mattermostChanged(t, h)
		if _, _, err := h.links.RemoveLink("u1"); err != nil {
			t.Fatal(err)
		}
		if err := h.links.AddLink(Link{UserID: "u2", ZulipUserID: 10, Method: LinkCodeMethod}); err != nil {
			t.Fatal(err)
		}
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Code != CodeLinkChanged || h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann || len(h.z.patches) != 2 {
			t.Errorf("record %+v, Mattermost %s, Zulip %s, patches %v", got, h.mm.users["u1"].Email, h.z.addrOf(10), h.z.patches)
		}
	})
	t.Run("the linked Zulip account was deactivated: Mattermost put back", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.z.accounts[10].inactive = true
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Code != CodeZulipAccountInactive || h.mm.users["u1"].Email != ann || len(h.z.patches) != 2 {
			t.Errorf("record %+v, Mattermost %s, patches %v", got, h.mm.users["u1"].Email, h.z.patches)
		}
	})
	t.Run("Zulip unreachable until the time is up: Mattermost put back", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.clock.advance(DefaultRetryFor)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Code != CodeGaveUp || h.mm.users["u1"].Email != ann || len(h.z.patches) != 2 {
			t.Errorf("record %+v, Mattermost %s, patches %v", got, h.mm.users["u1"].Email, h.z.patches)
		}
		assertNotes(t, h, wantNote{state: StateRolledBack, code: CodeGaveUp})
	})
	t.Run("the time runs out during the last try: Mattermost put back", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.clock.advance(DefaultRetryFor - time.Second)
		h.z.patchErrs = []error{errRate}
		h.z.onPatch = func() { h.clock.advance(2 * time.Second) } // Zulip answers 429 after the give-up time
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateRolledBack || got.Mattermost != StatusRolledBack || got.Code != CodeZulipRateLimited || h.mm.users["u1"].Email != ann || got.NextAttemptAt != nil {
			t.Errorf("record %+v, Mattermost %s", got, h.mm.users["u1"].Email)
		}
		assertNotes(t, h, wantNote{state: StateRolledBack, code: CodeZulipRateLimited})
	})
	t.Run("still failing: retried later, Mattermost kept", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		h.z.patchErrs = []error{errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown, errDown}
		h.clock.advance(31 * time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateMattermostChanged || got.Attempts != 2 || h.mm.users["u1"].Email != annNew || got.Zulip != StatusUnknown {
			t.Errorf("record %+v", got)
		}
		assertNotes(t, h)
	})
}

func TestJobFollowsTheConfirmationLink(t *testing.T) {
	setup := func(t *testing.T) (*harness, Change) {
		h := newHarness([]User{annUser()}, ann)
		h.mm.verify = true
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StatePendingVerification {
			t.Fatalf("state %s", res.Change.State)
		}
		return h, stored(t, h, res.Change.ID)
	}
	t.Run("link opened: Zulip follows", func(t *testing.T) {
		h, before := setup(t)
		h.clock.advance(time.Hour)
		runJob(t, h)
		if got := stored(t, h, before.ID); got.Version != before.Version {
			t.Fatalf("record saved before the link was opened: %+v", got)
		}
		h.mm.users["u1"].Email = annNew // Mattermost, when the link is opened
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateDone || got.Mattermost != StatusChanged || got.Zulip != StatusChanged || h.z.addrOf(10) != annNew {
			t.Errorf("record %+v; Zulip %s", got, h.z.addrOf(10))
		}
		if s := stepNames(got); !strings.HasSuffix(s, "apply_mattermost,verified,sync_zulip") {
			t.Errorf("steps %s", s)
		}
		assertNotes(t, h, wantNote{state: StateDone, zulip: StatusChanged})
	})
	t.Run("link opened while Zulip is down: Zulip gets the full retry time from then", func(t *testing.T) {
		h, before := setup(t)
		h.clock.advance(20 * time.Hour)
		h.mm.users["u1"].Email = annNew
		h.z.patchErrs = []error{errRate}
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateMattermostChanged || got.GiveUpAt == nil || !got.GiveUpAt.Equal(h.clock.now().Add(DefaultRetryFor)) {
			t.Errorf("record %+v, want waiting for Zulip until %s", got, h.clock.now().Add(DefaultRetryFor))
		}
	})
	t.Run("link never opened: expired", func(t *testing.T) {
		h, before := setup(t)
		h.clock.advance(VerificationLinkValidity + verificationMargin + time.Minute)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateExpired || got.Code != CodeLinkExpired || got.Mattermost != StatusUntouched || h.z.addrOf(10) != ann {
			t.Errorf("record %+v", got)
		}
		assertNotes(t, h, wantNote{state: StateExpired, code: CodeLinkExpired})
	})
	t.Run("cannot be cancelled", func(t *testing.T) {
		h, before := setup(t)
		res := h.service().Cancel(context.Background(), "u1", "s-u1")
		if res.Outcome != CancelOutcomePendingLink || res.Change.ID != before.ID {
			t.Errorf("cancel: %+v", res)
		}
		if got := stored(t, h, before.ID); got.State != StatePendingVerification {
			t.Errorf("state %s", got.State)
		}
	})
}

func TestJobSettlesInterruptedChanges(t *testing.T) {
	// A change the plugin left "started": written ahead, then stopped.
	interrupted := func(t *testing.T, mmEmail string) (*harness, Change) {
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
		h.mm.users["u1"].Email = mmEmail
		return h, ch
	}
	t.Run("still fresh: left alone", func(t *testing.T) {
		h, before := interrupted(t, annNew)
		h.clock.advance(MaxDuration)
		runJob(t, h)
		if got := stored(t, h, before.ID); got.Version != before.Version {
			t.Errorf("a change possibly in flight was touched: %+v", got)
		}
	})
	t.Run("Mattermost changed: Zulip follows", func(t *testing.T) {
		h, before := interrupted(t, annNew)
		h.clock.advance(interruptedAfter + time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateDone || got.Mattermost != StatusChanged || h.z.addrOf(10) != annNew {
			t.Errorf("record %+v", got)
		}
		assertNotes(t, h, wantNote{state: StateDone})
	})
	t.Run("nothing changed: made again", func(t *testing.T) {
		h, before := interrupted(t, ann)
		h.clock.advance(interruptedAfter + time.Second)
		runJob(t, h)
		got := stored(t, h, before.ID)
		if got.State != StateWaitingForZulip || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(h.clock.now()) {
			t.Fatalf("record %+v", got)
		}
		runJob(t, h)
		if got = stored(t, h, before.ID); got.State != StateDone || h.z.addrOf(10) != annNew || h.mm.users["u1"].Email != annNew {
			t.Errorf("record %+v", got)
		}
	})
	t.Run("changed to something else: failed", func(t *testing.T) {
		h, before := interrupted(t, "third@example.org")
		h.clock.advance(interruptedAfter + time.Second)
		runJob(t, h)
		if got := stored(t, h, before.ID); got.State != StateFailed || got.Code != CodeChangedMeanwhile || h.z.addrOf(10) != ann {
			t.Errorf("record %+v", got)
		}
	})
}

func TestOneOpenChangePerUser(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	open := waitingChange(t, h)
	res := h.service().ChangeEmail(context.Background(), req("third@example.org"))
	if res.Failure == nil || res.Failure.Code != CodeChangeOpen || res.Change.State != StateRefused {
		t.Fatalf("second change: %s %v", res.Change.State, res.Failure)
	}
	if res.Open == nil || res.Open.ID != open.ID || res.Open.NewEmail != annNew {
		t.Errorf("the open change that stopped it: %+v", res.Open)
	}
	if latest, _, _ := h.rec.LatestChange("u1"); latest.ID != open.ID {
		t.Errorf("latest change is %s, want the open one", latest.ID)
	}
}

func TestCancel(t *testing.T) {
	t.Run("a change waiting for Zulip", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := waitingChange(t, h)
		res := h.service().Cancel(context.Background(), "u1", "s-u1")
		if res.Outcome != CancelOutcomeCancelled || res.Change.NewEmail != annNew || res.Change.OldEmail != ann {
			t.Fatalf("cancel: %+v", res)
		}
		got := stored(t, h, before.ID)
		if got.State != StateCancelled || got.Code != CodeCancelled || got.NextAttemptAt != nil || !strings.HasSuffix(stepNames(got), ",cancel") {
			t.Errorf("record %+v", got)
		}
		h.clock.advance(time.Hour)
		runJob(t, h)
		if h.mm.users["u1"].Email != ann || len(h.z.patches) != 0 {
			t.Errorf("a cancelled change was made: Mattermost %s, patches %v", h.mm.users["u1"].Email, h.z.patches)
		}
		// And a new change is possible again.
		if res := h.service().ChangeEmail(context.Background(), req("third@example.org")); res.Change.State != StateDone {
			t.Errorf("after cancel: %s %v", res.Change.State, res.Failure)
		}
	})
	t.Run("after Mattermost changed", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		before := mattermostChanged(t, h)
		res := h.service().Cancel(context.Background(), "u1", "s-u1")
		if res.Outcome != CancelOutcomeAlreadyChanged || stored(t, h, before.ID).State != StateMattermostChanged {
			t.Errorf("cancel: %v", res.Outcome)
		}
	})
	t.Run("nothing open", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		if res := h.service().Cancel(context.Background(), "u1", "s-u1"); res.Outcome != CancelOutcomeNothingOpen {
			t.Errorf("cancel: %v", res.Outcome)
		}
		done := h.service().ChangeEmail(context.Background(), req(annNew))
		if res := h.service().Cancel(context.Background(), "u1", "s-u1"); res.Outcome != CancelOutcomeNothingOpen || stored(t, h, done.Change.ID).State != StateDone {
			t.Errorf("cancel after a finished change: %v", res.Outcome)
		}
	})
	t.Run("busy", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		waitingChange(t, h)
		h.locker.held["u1"] = true
		if res := h.service().Cancel(context.Background(), "u1", "s-u1"); res.Outcome != CancelOutcomeBusy {
			t.Errorf("cancel: %v", res.Outcome)
		}
	})
}

// Status reports the user's latest change with the facts its text needs
// (reply's TestStatusTexts words the same facts).
func TestStatus(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	if s := h.service().Status("u1"); s.Found || s.Failure != nil {
		t.Errorf("no change: %+v", s)
	}
	ch := waitingChange(t, h)
	s := h.service().Status("u1")
	if !s.Found || s.Change.ID != ch.ID || s.Change.State != StateWaitingForZulip || s.Change.OldEmail != ann || s.Change.NewEmail != annNew ||
		!s.Now.Equal(h.clock.now()) || s.Change.NextAttemptAt == nil || !s.Change.NextAttemptAt.Equal(h.clock.now().Add(30*time.Second)) ||
		s.Change.GiveUpAt == nil || !s.Change.GiveUpAt.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("waiting: %+v", s)
	}
	h.clock.advance(time.Minute)
	runJob(t, h)
	if s := h.service().Status("u1"); s.Change.State != StateDone || s.Change.Zulip != StatusChanged {
		t.Errorf("done: %+v", s)
	}
}

func TestNextDue(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	if _, ok := h.service().NextDue(); ok {
		t.Error("due with nothing open")
	}
	waitingChange(t, h)
	at, ok := h.service().NextDue()
	if !ok || !at.Equal(h.clock.now().Add(30*time.Second)) {
		t.Errorf("next due %v %v, want in 30s", at, ok)
	}
}

// When the retry time runs out after an answer was lost, Zulip is read
// before Mattermost is put back: it may have taken the change after all.
func TestGiveUpAfterALostAnswerReadsZulipFirst(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed bool // the lost PATCH committed late
		readErr   error
		wantState State
		wantMM    string
	}{
		{"Zulip took it late: done", true, nil, StateDone, annNew},
		{"Zulip kept the old address: put back", false, nil, StateRolledBack, ann},
		{"Zulip cannot be read: left for an admin", true, errDown, StateNeedsAttention, annNew},
		{"Zulip hides the address: left for an admin", false, nil, StateNeedsAttention, annNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			h.z.applyLost = tc.committed
			h.z.patchErrs = []error{nil, errTimeout, errTimeout, errTimeout, errTimeout, errTimeout, errTimeout}
			res := h.service().ChangeEmail(context.Background(), req(annNew))
			if res.Change.State != StateMattermostChanged || res.Change.Zulip != StatusUnknown {
				t.Fatalf("setup: %s %s", res.Change.State, res.Change.Zulip)
			}
			h.z.patchErrs = nil
			if tc.committed {
				h.z.settleLate()
			}
			h.z.errs["getid"] = tc.readErr
			h.z.accounts[10].hidden = strings.HasPrefix(tc.name, "Zulip hides")
			h.clock.advance(DefaultRetryFor)
			runJob(t, h)
			got := stored(t, h, res.Change.ID)
			if got.State != tc.wantState || h.mm.users["u1"].Email != tc.wantMM {
				t.Errorf("state %s, Mattermost %s; want %s, %s", got.State, h.mm.users["u1"].Email, tc.wantState, tc.wantMM)
			}
			if tc.wantState == StateNeedsAttention {
				assertNotes(t, h, wantNote{state: StateNeedsAttention, mattermost: StatusChanged, zulip: StatusUnknown, code: CodeGaveUp})
			}
		})
	}
}

// The drawing in state.go's doc comment is the table: every drawn edge is
// allowed, and every allowed move is drawn.
func TestDiagramMatchesTheTable(t *testing.T) {
	src, err := os.ReadFile("state.go")
	if err != nil {
		t.Fatal(err)
	}
	edge := regexp.MustCompile(`(?m)^//\t([a-z_]+) -> ([a-z_]+): \S`)
	drawn := map[[2]State]bool{}
	for _, m := range edge.FindAllStringSubmatch(string(src), -1) {
		state := func(n string) State {
			if n == StateNew.name() {
				return StateNew
			}
			return State(n)
		}
		from, to := state(m[1]), state(m[2])
		if drawn[[2]State{from, to}] {
			t.Errorf("%s -> %s is drawn twice", from, to)
		}
		drawn[[2]State{from, to}] = true
		if !CanMove(from, to) {
			t.Errorf("drawn %s -> %s is not in the table", from, to)
		}
	}
	n := 0
	for from, tos := range transitions {
		for _, to := range tos {
			n++
			if !drawn[[2]State{from, to}] {
				t.Errorf("table move %s -> %s is not drawn", from, to)
			}
		}
	}
	if n != len(drawn) || n < 20 {
		t.Errorf("%d moves in the table, %d drawn", n, len(drawn))
	}
}
