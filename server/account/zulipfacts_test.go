package account

import (
	"context"
	"reflect"
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

func TestZulipFactsAndLinkedAddressSaveRequests(t *testing.T) {
	const second, third, fourth = "ann2@example.org", "ann3@example.org", "ann4@example.org"
	h := newHarness([]User{annUser()}, ann)
	h.opts.Facts = NewZulipFacts(ZulipFactsTTL)
	h.opts.MaxChangesPerDay = 0
	h.bindings = newMemBindings(Binding{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, ZulipEmail: ann})
	svc := h.service()

	// First change: the facts are checked once, the lookups skipped (the
	// email is the one noted on the link).
	res, reqs := h.changeAnn(t, svc, annNew)
	want := []string{"settings", "me", "patch:" + probe, "get:" + annNew, "patch:10->" + annNew}
	if res.Change.State != StateDone || !reflect.DeepEqual(reqs, want) {
		t.Fatalf("first change: state %s, requests %v, want %v", res.Change.State, reqs, want)
	}
	if b := h.bindings.byUser["u1"]; b.ZulipEmail != annNew || b.ZulipUserID != 10 || b.Method != LinkCodeMethod {
		t.Fatalf("binding after the change = %+v, want the new address noted and the rest kept", b)
	}

	// Second change within the TTL: two requests in all.
	res, reqs = h.changeAnn(t, svc, second)
	if want := []string{"get:" + second, "patch:10->" + second}; res.Change.State != StateDone || !reflect.DeepEqual(reqs, want) {
		t.Fatalf("second change: state %s, requests %v, want %v", res.Change.State, reqs, want)
	}
	if h.z.addrOf(10) != second || h.mm.users["u1"].Email != second {
		t.Fatalf("after the second change Zulip has %s, Mattermost %s", h.z.addrOf(10), h.mm.users["u1"].Email)
	}

	// After the TTL the facts are checked again.
	h.clock.advance(ZulipFactsTTL)
	_, reqs = h.changeAnn(t, svc, third)
	if want := []string{"settings", "me", "patch:" + probe, "get:" + third, "patch:10->" + third}; !reflect.DeepEqual(reqs, want) {
		t.Fatalf("after the TTL: requests %v, want %v", reqs, want)
	}

	// A refusal that may mean the bot lost its permission makes the next
	// change check again, even within the TTL.
	h.z.patchErrs = []error{errNoPerm}
	res, _ = h.changeAnn(t, svc, fourth)
	if res.Change.State != StateRolledBack || res.Failure == nil || res.Failure.Code != CodeZulipNoPermission {
		t.Fatalf("refused change: state %s, failure %v", res.Change.State, res.Failure)
	}
	if b := h.bindings.byUser["u1"]; b.ZulipEmail != third {
		t.Fatalf("a refused change must not move the noted address: %+v", b)
	}
	_, reqs = h.changeAnn(t, svc, fourth)
	if want := []string{"settings", "me", "patch:" + probe, "get:" + fourth, "patch:10->" + fourth}; !reflect.DeepEqual(reqs, want) {
		t.Fatalf("after a permission refusal: requests %v, want %v", reqs, want)
	}
}

func TestZulipFactsNotRememberedWhenTheCheckFails(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.Facts = NewZulipFacts(ZulipFactsTTL)
	h.bindings = newMemBindings(Binding{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, ZulipEmail: ann})
	h.z.patchErrs = []error{errNoPerm}
	svc := h.service()
	res, _ := h.changeAnn(t, svc, annNew)
	if res.Failure == nil || res.Failure.Code != CodeZulipNoPermission || h.mm.users["u1"].Email != ann {
		t.Fatalf("state %s, failure %v, Mattermost %s", res.Change.State, res.Failure, h.mm.users["u1"].Email)
	}
	_, reqs := h.changeAnn(t, svc, annNew)
	if want := []string{"settings", "me", "patch:" + probe, "get:" + annNew, "patch:10->" + annNew}; !reflect.DeepEqual(reqs, want) {
		t.Fatalf("after a failed check: requests %v, want %v", reqs, want)
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

func TestLinkedAddressDecidesTheLookups(t *testing.T) {
	tests := []struct {
		name      string
		noted     string   // the address noted on the link
		zulip     []string // Zulip accounts: 10 is Ann's linked one
		wantState State
		wantCode  Code
		wantReqs  []string // after the facts
		wantNoted string
	}{
		{
			name: "noted address is the email: no lookup", noted: ann, zulip: []string{ann},
			wantState: StateDone, wantReqs: []string{"get:" + annNew, "patch:10->" + annNew}, wantNoted: annNew,
		},
		{
			name: "noted address differs in case only: no lookup", noted: "Ann@Example.org", zulip: []string{ann},
			wantState: StateDone, wantReqs: []string{"get:" + annNew, "patch:10->" + annNew}, wantNoted: annNew,
		},
		{
			name: "nothing noted (a link from an older version): the linked account is read", noted: "", zulip: []string{ann},
			wantState: StateDone, wantReqs: []string{"getid:10", "get:" + annNew, "patch:10->" + annNew}, wantNoted: annNew,
		},
		{
			name: "noted address is another: the email may be someone else's, so it is looked up", noted: "old@example.org", zulip: []string{"zulip-only@example.org", ann},
			wantState: StateRefused, wantCode: CodeZulipAccountMismatch, wantReqs: []string{"getid:10", "get:" + ann}, wantNoted: "old@example.org",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, tc.zulip...)
			h.opts.Facts = NewZulipFacts(ZulipFactsTTL)
			h.opts.Facts.confirm(h.clock.now())
			h.bindings = newMemBindings(Binding{UserID: "u1", ZulipUserID: 10, Method: LinkAdmin, LinkedBy: "admin", ZulipEmail: tc.noted})
			res, reqs := h.changeAnn(t, h.service(), annNew)
			code := Code("")
			if res.Failure != nil {
				code = res.Failure.Code
			}
			if res.Change.State != tc.wantState || code != tc.wantCode || !reflect.DeepEqual(reqs, tc.wantReqs) {
				t.Fatalf("state %s code %q requests %v; want %s %q %v", res.Change.State, code, reqs, tc.wantState, tc.wantCode, tc.wantReqs)
			}
			want := Binding{UserID: "u1", ZulipUserID: 10, Method: LinkAdmin, LinkedBy: "admin", ZulipEmail: tc.wantNoted}
			if got := h.bindings.byUser["u1"]; got != want {
				t.Fatalf("binding = %+v, want %+v", got, want)
			}
		})
	}
}

func TestNotedAddressNeverRevivesARemovedLink(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.bindings = newMemBindings(Binding{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod, ZulipEmail: ann})
	svc := h.service()
	// The link is replaced by another one (to account 11) between the
	// change and the note: the note must leave the new link alone.
	h.bindings.byUser["u1"] = Binding{UserID: "u1", ZulipUserID: 11, Method: LinkAdmin}
	svc.rememberZulipAddress("u1", 10, annNew)
	if got := h.bindings.byUser["u1"]; got.ZulipUserID != 11 || got.ZulipEmail != "" {
		t.Fatalf("binding = %+v, want the link to 11 untouched", got)
	}
	delete(h.bindings.byUser, "u1")
	svc.rememberZulipAddress("u1", 10, annNew)
	if _, ok := h.bindings.byUser["u1"]; ok {
		t.Fatal("a removed link came back")
	}
}

func TestBindingByVerifiedEmailNotesTheAddress(t *testing.T) {
	// Ann is not linked; her verified email proves the Zulip account, which
	// is linked even though the change itself is refused (address taken).
	h := newHarness([]User{annUser()}, ann, annNew)
	res, _ := h.changeAnn(t, h.service(), annNew)
	if res.Failure == nil || res.Failure.Code != CodeTakenInZulip {
		t.Fatalf("failure %v, want taken in Zulip", res.Failure)
	}
	b, ok := h.bindings.byUser["u1"]
	if !ok || b.ZulipUserID != 10 || b.Method != LinkVerifiedEmail || b.ZulipEmail != ann {
		t.Fatalf("binding = %+v (linked %v), want account 10 by verified email with %s noted", b, ok, ann)
	}
}

// Changes arriving together while the facts are unknown ask Zulip once:
// the others wait for that answer (a burst must not spend the bot's rate
// limit on the same question).
func TestZulipFactsAskedOnceByConcurrentChanges(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.Facts = NewZulipFacts(ZulipFactsTTL)
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
