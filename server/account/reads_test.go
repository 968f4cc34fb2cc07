package account

import (
	"context"
	"testing"
)

// The HTTP API's reads go through the service and show what is stored.
func TestReadsThroughTheService(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	svc := h.service()
	if _, ok, err := svc.LatestChange("u1"); ok || err != nil {
		t.Fatalf("latest before any change: %v %v", ok, err)
	}
	res := svc.ChangeEmail(context.Background(), req(annNew))
	got, ok, err := svc.LatestChange("u1")
	if err != nil || !ok || got.ID != res.Change.ID || got.State != StateDone {
		t.Errorf("latest %+v %v %v", got, ok, err)
	}
	page, err := svc.ListChanges(StateDone, 0, 10)
	if err != nil || len(page) != 1 || page[0].ID != res.Change.ID {
		t.Errorf("list %v %v", page, err)
	}
	if page, _ := svc.ListChanges(StateFailed, 0, 10); len(page) != 0 {
		t.Errorf("filtered list %v", page)
	}
	b, ok, err := svc.LinkOf("u1")
	if err != nil || !ok || b.ZulipUserID != 10 || b.Method != LinkVerifiedEmail {
		t.Errorf("link %+v %v %v", b, ok, err)
	}
}
