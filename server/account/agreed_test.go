package account

import (
	"context"
	"testing"
	"time"
)

// agreedOf is Ann's link's agreed address; "-" when she has no link.
func agreedOf(h *harness) string {
	l, ok := h.links.byUser["u1"]
	if !ok {
		return "-"
	}
	return l.AgreedEmail
}

// Issue 15: every link remembers the address both systems last agreed on,
// and every change Account Sync makes moves it before acting and puts it
// where both systems ended.
func TestAgreedAddressFollowsTheChanges(t *testing.T) {
	t.Run("a link proven by the verified email agrees on it; a done change moves it", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		var atPatch string
		h.z.onPatch = func() {
			if len(h.z.patches) == 2 { // the change itself, after the bot's probe
				atPatch = agreedOf(h)
			}
		}
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateDone || agreedOf(h) != annNew {
			t.Errorf("state %s, agreed %q; want done, %q", res.Change.State, agreedOf(h), annNew)
		}
		if atPatch != annNew {
			t.Errorf("agreed %q when Zulip was changed, want %q already: the change must never look made elsewhere", atPatch, annNew)
		}
	})
	t.Run("rolled back: back to the old address", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.z.patchErrs = []error{nil, errTaken}
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateRolledBack || agreedOf(h) != ann {
			t.Errorf("state %s, agreed %q; want rolled back, %q", res.Change.State, agreedOf(h), ann)
		}
	})
	t.Run("refused before anything: the link is made, agreed on the current address", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann, annNew)
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateRefused || agreedOf(h) != ann {
			t.Errorf("state %s, agreed %q", res.Change.State, agreedOf(h))
		}
	})
	t.Run("waiting for a link: the new address while open, the old once it expires", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.mm.verify = true
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StatePendingVerification || agreedOf(h) != annNew {
			t.Fatalf("state %s, agreed %q", res.Change.State, agreedOf(h))
		}
		h.clock.advance(VerificationLinkValidity + verificationMargin + time.Minute)
		runJob(t, h)
		if got := stored(t, h, res.Change.ID); got.State != StateExpired || agreedOf(h) != ann {
			t.Errorf("state %s, agreed %q; want expired, %q", got.State, agreedOf(h), ann)
		}
	})
	t.Run("Zulip's answer lost, then the job settles it done", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.z.patchErrs = []error{nil, errTimeout}
		h.z.applyLost = true
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateMattermostChanged || agreedOf(h) != annNew {
			t.Fatalf("state %s, agreed %q", res.Change.State, agreedOf(h))
		}
		runJob(t, h)
		if got := stored(t, h, res.Change.ID); got.State != StateDone || agreedOf(h) != annNew {
			t.Errorf("state %s, agreed %q", got.State, agreedOf(h))
		}
	})
	t.Run("needs an admin: left as it was set", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.mm.failRollback = true
		h.z.patchErrs = []error{nil, errTaken}
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateNeedsAttention || agreedOf(h) != annNew {
			t.Errorf("state %s, agreed %q", res.Change.State, agreedOf(h))
		}
	})
	t.Run("sync off: nothing to agree on", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: ann})
		h.opts.SyncZulip = false
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateDone || agreedOf(h) != ann {
			t.Errorf("state %s, agreed %q; Zulip kept %q", res.Change.State, agreedOf(h), ann)
		}
	})
	t.Run("cancelled after an interrupted start: back to the old address", func(t *testing.T) {
		h := newHarness([]User{annUser()}, ann)
		h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, AgreedEmail: annNew})
		now := h.clock.now()
		ch := Change{ID: "c1", UserID: "u1", RequestedBy: "u1", OldEmail: ann, NewEmail: annNew, ZulipUserID: 10, State: StateWaitingForZulip,
			Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: now, UpdatedAt: now, AgreedBefore: ann}
		if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
			t.Fatal(err)
		}
		if out := h.service().Cancel(context.Background(), "u1", "s-u1"); out.Outcome != CancelOutcomeCancelled || agreedOf(h) != ann {
			t.Errorf("cancel %v, agreed %q", out.Outcome, agreedOf(h))
		}
	})
}

// Links made by code or by an admin agree on an address only when both
// systems have it.
func TestNewLinksAgreeOnlyOnTheSameAddress(t *testing.T) {
	t.Run("by code, addresses differ: none agreed", func(t *testing.T) {
		h := linkHarness()
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", "ann.z@example.org")
		if lr := svc.Link(context.Background(), "u1", "s-u1", sentCode(t, h)); lr.Outcome != LinkOutcomeLinked || agreedOf(h) != "" {
			t.Errorf("link %v, agreed %q", lr.Outcome, agreedOf(h))
		}
	})
	t.Run("by code, the same address: agreed", func(t *testing.T) {
		h := newHarness([]User{{ID: "u1", Username: "ann", Email: ann}}, ann) // unverified: no automatic link
		svc := h.service()
		svc.Link(context.Background(), "u1", "s-u1", ann)
		if lr := svc.Link(context.Background(), "u1", "s-u1", sentCode(t, h)); lr.Outcome != LinkOutcomeLinked || agreedOf(h) != ann {
			t.Errorf("link %v, agreed %q", lr.Outcome, agreedOf(h))
		}
	})
	t.Run("by an admin: agreed", func(t *testing.T) {
		h := newHarness([]User{annUser(), {ID: "admin", Username: "root", Email: "root@example.org"}}, ann)
		h.mm.admins["admin"] = true
		if rep := h.service().LinkAll(context.Background(), "admin", "s-admin", false); rep.Linked != 1 || agreedOf(h) != ann {
			t.Errorf("link-all %+v, agreed %q", rep, agreedOf(h))
		}
	})
}
