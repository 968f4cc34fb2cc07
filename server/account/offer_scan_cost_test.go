package account

import (
	"context"
	"testing"
)

// lockCountingStore counts the user locks taken.
type lockCountingStore struct {
	memStore
	locks map[string]int
}

func (s lockCountingStore) TryLock(ctx context.Context, id string) (func(), bool, error) {
	s.locks[id]++
	return s.memStore.TryLock(ctx, id)
}

// Review 4: an offer the user answered (kept) leaves the pair apart for
// good, and every scan afterwards takes the user's lock (their own
// commands meanwhile answer "busy") and spends one more Zulip request
// (GET /users/{id}) on them, only to find it offered already: the
// "offered already" check comes after the lock and the Zulip read. With
// many kept offers a scan spends the bot's Zulip rate limit, while the
// README promises one Zulip request per scan.
func TestOfferReviewKeptOfferCostsALockAndAZulipReadEveryScan(t *testing.T) {
	h := zulipChangedHarness()
	o, ok := h.service().OfferZulipChange(context.Background(), "u1")
	if !ok {
		t.Fatal("no offer")
	}
	if _, f := h.service().KeepOffer("u1", "s-u1", o.ID); f != nil {
		t.Fatal(f)
	}
	st := lockCountingStore{memStore: h.deps(h.z).Store.(memStore), locks: map[string]int{}}
	d := h.deps(h.z)
	d.Store = st
	o2 := h.opts
	o2.Now = h.clock.now
	svc := newTestService(d, o2)

	before := h.z.calls
	const scans = 3
	for range scans {
		if rep, f := svc.Reconcile(context.Background()); f != nil || rep.Offered != 0 {
			t.Fatalf("scan %+v %v", rep, f)
		}
	}
	if got := h.z.calls - before; got != scans {
		t.Errorf("%d scans made %d Zulip requests, want %d (one each): a kept offer is read again by id at every scan", scans, got, scans)
	}
	if st.locks["u1"] != 0 {
		t.Errorf("%d scans took the user's lock %d times for an offer already answered", scans, st.locks["u1"])
	}
}
