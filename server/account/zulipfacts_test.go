package account

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// change runs one change of Ann's email and returns the Zulip requests it
// made.
func (h *harness) changeAnn(t *testing.T, svc *Service, to string) (Result, []string) {
	t.Helper()
	before := len(h.z.reqs)
	res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", SessionID: "s-u1", NewEmail: to})
	return res, append([]string(nil), h.z.reqs[before:]...)
}

// sameRequests: the checks in any order (the new address is looked up
// side by side with them), then the change, last.
func sameRequests(got, want []string) bool {
	if len(got) != len(want) || len(got) == 0 || got[len(got)-1] != want[len(want)-1] {
		return false
	}
	g, w := slices.Clone(got[:len(got)-1]), slices.Clone(want[:len(want)-1])
	slices.Sort(g)
	slices.Sort(w)
	return reflect.DeepEqual(g, w)
}

func TestZulipFactsSaveRequests(t *testing.T) {
	const second, third, fourth = "ann2@example.org", "ann3@example.org", "ann4@example.org"
	h := newHarness([]User{annUser()}, ann)
	h.facts = NewZulipFacts(ZulipFactsTTL)
	h.opts.MaxChangesPerDay = 0
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	svc := h.service()

	// First change: the facts are checked once.
	res, reqs := h.changeAnn(t, svc, annNew)
	want := []string{"getid:10", "settings", "me", "patch:" + probe, "get:" + annNew, "patch:10->" + annNew}
	if res.Change.State != StateDone || !sameRequests(reqs, want) {
		t.Fatalf("first change: state %s, requests %v, want %v", res.Change.State, reqs, want)
	}

	// Second change within the TTL: the linked account, the new address,
	// the change.
	res, reqs = h.changeAnn(t, svc, second)
	if want := []string{"getid:10", "get:" + second, "patch:10->" + second}; res.Change.State != StateDone || !sameRequests(reqs, want) {
		t.Fatalf("second change: state %s, requests %v, want %v", res.Change.State, reqs, want)
	}
	if h.z.addrOf(10) != second || h.mm.users["u1"].Email != second {
		t.Fatalf("after the second change Zulip has %s, Mattermost %s", h.z.addrOf(10), h.mm.users["u1"].Email)
	}

	// After the TTL the facts are checked again.
	h.clock.advance(ZulipFactsTTL)
	_, reqs = h.changeAnn(t, svc, third)
	if want := []string{"getid:10", "settings", "me", "patch:" + probe, "get:" + third, "patch:10->" + third}; !sameRequests(reqs, want) {
		t.Fatalf("after the TTL: requests %v, want %v", reqs, want)
	}

	// A refusal that may mean the bot lost its permission makes the next
	// change check again, even within the TTL.
	h.z.patchErrs = []error{errNoPerm}
	res, _ = h.changeAnn(t, svc, fourth)
	if res.Change.State != StateRolledBack || res.Failure == nil || res.Failure.Code != CodeZulipNoPermission {
		t.Fatalf("refused change: state %s, failure %v", res.Change.State, res.Failure)
	}
	_, reqs = h.changeAnn(t, svc, fourth)
	if want := []string{"getid:10", "settings", "me", "patch:" + probe, "get:" + fourth, "patch:10->" + fourth}; !sameRequests(reqs, want) {
		t.Fatalf("after a permission refusal: requests %v, want %v", reqs, want)
	}
}

func TestZulipFactsNotRememberedWhenTheCheckFails(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.facts = NewZulipFacts(ZulipFactsTTL)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	h.z.patchErrs = []error{errNoPerm}
	svc := h.service()
	res, _ := h.changeAnn(t, svc, annNew)
	if res.Failure == nil || res.Failure.Code != CodeZulipNoPermission || h.mm.users["u1"].Email != ann {
		t.Fatalf("state %s, failure %v, Mattermost %s", res.Change.State, res.Failure, h.mm.users["u1"].Email)
	}
	_, reqs := h.changeAnn(t, svc, annNew)
	// The new address's lookup goes side by side with the others.
	if want := []string{"getid:10", "settings", "me", "patch:" + probe, "get:" + annNew, "patch:10->" + annNew}; !sameRequests(reqs, want) {
		t.Fatalf("after a failed check: requests %v, want %v (the change last)", reqs, want)
	}
}

func TestZulipFactsWithoutTTLAskEveryTime(t *testing.T) {
	f := NewZulipFacts(0)
	now := time.Now()
	f.confirm(now)
	if f.fresh(now) {
		t.Fatal("facts with no TTL must never be fresh")
	}
	f = NewZulipFacts(time.Minute)
	if f.fresh(now) {
		t.Fatal("facts never confirmed must not be fresh")
	}
	f.confirm(now)
	if !f.fresh(now.Add(59*time.Second)) || f.fresh(now.Add(time.Minute)) {
		t.Fatal("facts must be fresh for exactly the TTL")
	}
	f.Forget()
	if f.fresh(now) {
		t.Fatal("forgotten facts must not be fresh")
	}
}

// Changes arriving together while the facts are unknown ask Zulip once:
// the others wait for that answer (a burst must not spend the bot's rate
// limit on the same question).
func TestZulipFactsAskedOnceByConcurrentChanges(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.facts = NewZulipFacts(ZulipFactsTTL)
	svc := h.service()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f := svc.zulipReady(context.Background()); f != nil {
				t.Error(f)
			}
		}()
	}
	wg.Wait()
	h.z.mu.Lock()
	defer h.z.mu.Unlock()
	if want := []string{"settings", "me", "patch:" + probe}; !reflect.DeepEqual(h.z.reqs, want) {
		t.Fatalf("requests %v, want %v once", h.z.reqs, want)
	}
}
