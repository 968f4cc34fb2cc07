package account

import (
	"context"
	"errors"
	"testing"
)

// review6AgreeUnreadable is the fake store whose move ahead of the agreed
// address fails at its read ("", false, err: store.SetAgreedEmail when the
// KV Get fails), and whose next Link read (agreeAhead's fallback, a moment
// later in the same hiccup) fails too. Later writes go through.
type review6AgreeUnreadable struct {
	memStore
	failTo       string
	failed       bool
	failNextLink bool
}

func (s *review6AgreeUnreadable) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	if email == s.failTo && !s.failed {
		s.failed, s.failNextLink = true, true
		return "", false, errors.New("store: reading the link of u1: connection reset")
	}
	return s.memStore.SetAgreedEmail(userID, zulipUserID, email)
}

func (s *review6AgreeUnreadable) Link(userID string) (Link, bool, error) {
	if s.failNextLink {
		s.failNextLink = false
		return Link{}, false, errors.New("store: reading the link of u1: connection reset")
	}
	return s.memStore.Link(userID)
}

// When neither SetAgreedEmail nor the fallback read can say what was agreed
// before, nothing was moved (the store never got to write), yet
// AgreedBefore stays "" and a change that does not go through "puts back"
// that empty address at its end: the agreed address is wiped, and the
// user's later changes made in Mattermost are no longer forwarded to Zulip
// (forward.go skips a link with no agreed address) nor offered.
func TestReview6UnknownAgreedBeforeDoesNotWipeTheAgreedAddress(t *testing.T) {
	h := newHarness([]User{annUser()}, ann) // linked by the verified email: agreed on ann
	h.z.patchErrs = []error{nil, errTaken}  // Zulip refuses the change: rolled back
	d := h.deps(h.z)
	st := &review6AgreeUnreadable{memStore: d.Store.(memStore), failTo: annNew}
	d.Store = st
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if !st.failed || st.failNextLink {
		t.Fatalf("the move ahead failed %v, the fallback read made %v: the scenario did not run", st.failed, !st.failNextLink)
	}
	if res.Change.State != StateRolledBack {
		t.Fatalf("state %s (%v), want rolled back", res.Change.State, res.Failure)
	}
	if got := agreedOf(h); got != ann {
		t.Errorf("agreed address %q after a rolled-back change whose move ahead never wrote, want %q: AgreedBefore %q was put back",
			got, ann, res.Change.AgreedBefore)
	}
}
