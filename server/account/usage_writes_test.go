package account

import (
	"context"
	"testing"
)

// Issue 17: a change made writes the user's usage once, its attempt and
// its change together; a change Zulip refuses still has its attempt
// counted, written before the user's lock is let go.
func TestUsageWrittenOncePerChange(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	u := h.usage.usage["u1"]
	if res.Change.State != StateDone || h.usage.saves != 1 || len(u.Attempts) != 1 || len(u.Changes) != 1 {
		t.Fatalf("%s: %d writes, usage %+v: want one write with the attempt and the change", res.Change.State, h.usage.saves, u)
	}

	// Zulip has the address: refused after the checks, the attempt kept.
	h.z.accounts[11] = &zAccount{id: 11, addr: "taken@example.org"}
	h.locker.held = map[string]bool{}
	res = h.service().ChangeEmail(context.Background(), req("taken@example.org"))
	u = h.usage.usage["u1"]
	if res.Failure == nil || res.Failure.Code != CodeTakenInZulip || h.usage.saves != 2 || len(u.Attempts) != 2 || len(u.Changes) != 1 {
		t.Fatalf("%v: %d writes, usage %+v: want the second attempt written", res.Failure, h.usage.saves, u)
	}
	if h.locker.held["u1"] {
		t.Error("the lock is still held")
	}
}
