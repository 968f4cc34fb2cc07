package account

import (
	"context"
	"errors"
	"testing"
)

// review5AgreeFailsAhead is the fake store whose first write of the agreed
// address to the change's new address fails, as the KV store's Set may (a
// database hiccup): the store then answers ("", false, err), as
// store.SetAgreedEmail does for a write that failed after its read.
type review5AgreeFailsAhead struct {
	memStore
	failTo string // the address whose first write fails
	failed bool
}

func (s *review5AgreeFailsAhead) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	if email == s.failTo && !s.failed {
		s.failed = true
		return "", false, errors.New("kv: saving the link: connection reset")
	}
	return s.memStore.SetAgreedEmail(userID, zulipUserID, email)
}

// Item 3: agreeAhead takes the address agreed before from SetAgreedEmail's
// answer only. When that write fails, nothing was moved (the link still
// agrees on Ann's address), but AgreedBefore stays empty; a change that then
// does not go through (rolled back, failed, expired, cancelled) "puts back"
// that empty address, wiping what both systems agree on. Before the commit
// AgreedBefore came from a separate Link read and the end restored Ann's
// address. With no agreed address, later changes made in Mattermost are no
// longer forwarded to Zulip (forward.go) nor offered (offer.go).
func TestReview5FailedAgreeAheadDoesNotWipeTheAgreedAddress(t *testing.T) {
	h := newHarness([]User{annUser()}, ann) // linked by the verified email: agreed on ann
	h.z.patchErrs = []error{nil, errTaken}  // Zulip refuses the change: rolled back
	d := h.deps(h.z)
	st := &review5AgreeFailsAhead{memStore: d.Store.(memStore), failTo: annNew}
	d.Store = st
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if !st.failed {
		t.Fatal("the agreed address was never moved ahead")
	}
	if res.Change.State != StateRolledBack {
		t.Fatalf("state %s (%v), want rolled back", res.Change.State, res.Failure)
	}
	if got := agreedOf(h); got != ann {
		t.Errorf("agreed address %q after a rolled-back change whose move ahead failed, want %q (it never moved): "+
			"AgreedBefore %q was put back", got, ann, res.Change.AgreedBefore)
	}
}
