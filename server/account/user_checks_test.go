package account

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Issue 13, point 4: Zulip's id-based address user{ID}@{realm host} is
// refused: up front when the Zulip host is known, and by what Zulip shows
// otherwise. Neither system changes, and "already has the address" needs
// the account's real address.
func TestZulipIDAddressRefused(t *testing.T) {
	for _, tc := range []struct {
		name      string
		host      string
		input     string
		wantZulip bool // Zulip was asked before the refusal
	}{
		{"own id, host known", "zulip.test", "user10@zulip.test", false},
		{"own id, upper case, host known", "zulip.test", "User10@Zulip.Test", false},
		{"someone else's id, host known", "zulip.test", "user11@zulip.test", false},
		{"own id, host not known: found by Zulip", "", "user10@zulip.test", true},
		{"someone else's id, host not known: found by Zulip", "", "user11@zulip.test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann, "bob@example.org")
			h.opts.ZulipHost = tc.host
			res := h.service().ChangeEmail(context.Background(), req(tc.input))
			if res.Change.State != StateRefused || res.Failure == nil || res.Failure.Code != CodeZulipDummyAddress {
				t.Fatalf("state %s (%v), want refused with %s", res.Change.State, res.Failure, CodeZulipDummyAddress)
			}
			// The reply names the address as normalised (reply's TestEmailReplies).
			if res.Change.NewEmail != strings.ToLower(tc.input) {
				t.Errorf("new email %q", res.Change.NewEmail)
			}
			if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann || h.z.addrOf(11) != "bob@example.org" || len(h.mm.updates) != 0 {
				t.Errorf("something changed: Mattermost %s (updates %v), Zulip %s, %s", h.mm.users["u1"].Email, h.mm.updates, h.z.addrOf(10), h.z.addrOf(11))
			}
			for _, p := range h.z.patches {
				if p != probe {
					t.Errorf("Zulip PATCH %s", p)
				}
			}
			if asked := h.z.calls > 0; asked != tc.wantZulip {
				t.Errorf("Zulip asked = %v (%v), want %v", asked, h.z.reqs, tc.wantZulip)
			}
			if _, saved := h.rec.last(); saved {
				t.Errorf("a refusal was stored")
			}
		})
	}
	t.Run("an ordinary user<digits> address elsewhere is fine", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.opts.ZulipHost = "zulip.test"
		res := h.service().ChangeEmail(context.Background(), req("user10@example.org"))
		if res.Change.State != StateDone || h.z.addrOf(10) != "user10@example.org" {
			t.Errorf("state %s (%v), Zulip %s", res.Change.State, res.Failure, h.z.addrOf(10))
		}
	})
}

func TestIsZulipDummyAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"user10@zulip.test": true, "USER7@ZULIP.TEST": true, "user@zulip.test": false, "user10x@zulip.test": false,
		"auser10@zulip.test": false, "user10@zulip.test.example": false, "user10@sub.zulip.test": false,
	} {
		if got := isZulipDummyAddress(addr, "zulip.test"); got != want {
			t.Errorf("isZulipDummyAddress(%q) = %v, want %v", addr, got, want)
		}
	}
	if isZulipDummyAddress("user10@zulip.test", "") {
		t.Errorf("no host known: nothing is a dummy address up front")
	}
}

// Issue 13, point 10: a deactivated Mattermost user's email is not
// changed, by an admin or by the job; the job ends such a change without
// touching Zulip.
func TestDeactivatedUsers(t *testing.T) {
	t.Run("an admin's change is refused", func(t *testing.T) {
		u := annUser()
		u.Deactivated = true
		admin := User{ID: "a1", Username: "root", Email: "root@example.org", EmailVerified: true}
		h := newHarness([]User{u, admin}, ann)
		h.mm.admins["a1"] = true
		res := h.service().ChangeEmail(context.Background(), Request{UserID: "u1", ActorID: "a1", SessionID: "s-a1", NewEmail: annNew})
		if res.Change.State != StateRefused || res.Failure == nil || res.Failure.Code != CodeUserDeactivated {
			t.Fatalf("state %s (%v), want refused, deactivated", res.Change.State, res.Failure)
		}
		if len(h.mm.updates) != 0 || h.z.calls != 0 || len(h.notes.sent) != 0 {
			t.Errorf("touched: updates %v, Zulip %v, notes %v", h.mm.updates, h.z.reqs, h.notes.sent)
		}
	})
	t.Run("waiting for Zulip, deactivated meanwhile: failed, nothing changed", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		ch := waitingChange(t, h)
		h.mm.users["u1"].Deactivated = true
		h.clock.advance(time.Hour)
		runJob(t, h)
		got := stored(t, h, ch.ID)
		if got.State != StateFailed || got.Code != CodeUserDeactivated || len(h.mm.updates) != 0 || len(h.z.patches) != 0 {
			t.Errorf("record %+v, updates %v, PATCHes %v", got, h.mm.updates, h.z.patches)
		}
	})
	t.Run("Mattermost changed, deactivated meanwhile: put back, Zulip untouched", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		ch := mattermostChanged(t, h)
		patches := len(h.z.patches)
		h.mm.users["u1"].Deactivated = true
		h.clock.advance(time.Hour)
		runJob(t, h)
		got := stored(t, h, ch.ID)
		if got.State != StateRolledBack || got.Code != CodeUserDeactivated || got.Mattermost != StatusRolledBack || got.Zulip != StatusUntouched {
			t.Errorf("record %+v, want rolled back", got)
		}
		if len(h.z.patches) != patches || h.z.addrOf(10) != ann || h.mm.users["u1"].Email != ann {
			t.Errorf("end state: PATCHes %v, Zulip %s, Mattermost %s", h.z.patches, h.z.addrOf(10), h.mm.users["u1"].Email)
		}
	})
}

// Issue 13, point 7: an interrupted change whose user cannot be read backs
// off like any retry (one warning per try, not every second) and ends at
// its give-up time.
func TestInterruptedChangeOfAnUnreadableUser(t *testing.T) {
	setup := func(t *testing.T) (*harness, Change) {
		h := newHarness([]User{annUser()}, ann)
		now := h.clock.now()
		ch := Change{ID: "c1", UserID: "u1", RequestedBy: "u1", OldEmail: ann, NewEmail: annNew, ZulipUserID: 10, State: StateStarted,
			Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now}
		if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
			t.Fatal(err)
		}
		h.clock.advance(interruptedAfter + time.Second)
		return h, ch
	}
	warnings := func(h *harness) int {
		n := 0
		for _, l := range h.log.lines {
			if strings.Contains(l, "could not read the user of an interrupted change") {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name      string
		unread    func(h *harness)
		wantState State
	}{
		{"database down: an admin must look", func(h *harness) { h.mm.getErrAfter, h.mm.gets = 1, 1 }, StateNeedsAttention},
		{"the account is gone: failed", func(h *harness) { delete(h.mm.users, "u1") }, StateFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ch := setup(t)
			tc.unread(h)
			runJob(t, h)
			got := stored(t, h, ch.ID)
			if got.State != StateStarted || got.Attempts != 1 || got.NextAttemptAt == nil || !got.NextAttemptAt.After(h.clock.now()) || got.GiveUpAt == nil {
				t.Fatalf("record %+v, want a retry later", got)
			}
			if next, ok := h.service().NextDue(); !ok || !next.Equal(*got.NextAttemptAt) {
				t.Errorf("next due %v %v, want the retry %v", next, ok, got.NextAttemptAt)
			}
			runJob(t, h)
			runJob(t, h)
			if warnings(h) != 1 || stored(t, h, ch.ID).Version != got.Version {
				t.Errorf("the job ran again before the retry: %d warnings\n%s", warnings(h), h.log)
			}
			h.clock.t = *got.GiveUpAt
			for i := 0; i < 20 && stored(t, h, ch.ID).State.Open(); i++ {
				runJob(t, h)
			}
			got = stored(t, h, ch.ID)
			if got.State != tc.wantState || got.Code != CodeUserUnreadable || got.NextAttemptAt != nil {
				t.Errorf("record %+v, want %s with %s", got, tc.wantState, CodeUserUnreadable)
			}
			if h.z.addrOf(10) != ann {
				t.Errorf("Zulip changed: %s", h.z.addrOf(10))
			}
		})
	}
}
