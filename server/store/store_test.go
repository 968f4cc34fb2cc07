package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

func TestSaveAndReadChanges(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	if _, ok, err := s.LatestChange("u1"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	first := &account.Change{ID: "c1", UserID: "u1", OldEmail: "a@x.org", NewEmail: "b@x.org", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	first.State = account.StateDone
	if err := s.SaveChange(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	second := &account.Change{ID: "c2", UserID: "u1", OldEmail: "b@x.org", NewEmail: "c@x.org", State: account.StateRolledBack}
	if err := s.SaveChange(context.Background(), second); err != nil {
		t.Fatal(err)
	}

	got, ok, err := s.GetChange("c1")
	if err != nil || !ok || got.State != account.StateDone || got.NewEmail != "b@x.org" {
		t.Errorf("c1 = %+v ok=%v err=%v", got, ok, err)
	}
	latest, ok, err := s.LatestChange("u1")
	if err != nil || !ok || latest.ID != "c2" {
		t.Errorf("latest = %+v ok=%v err=%v", latest, ok, err)
	}
	if err := s.SaveChange(context.Background(), &account.Change{UserID: "u1"}); err == nil {
		t.Error("a change without ID was saved")
	}
}

func TestLockIsExclusiveAndReleased(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	unlock, ok, err := s.TryLock(context.Background(), "u1")
	if err != nil || !ok {
		t.Fatalf("first lock: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := s.TryLock(context.Background(), "u1"); ok {
		t.Fatal("second lock taken while the first is held")
	}
	if _, ok, _ := s.TryLock(context.Background(), "u2"); !ok {
		t.Fatal("another user's lock refused")
	}
	unlock()
	if _, ok, _ := s.TryLock(context.Background(), "u1"); !ok {
		t.Fatal("lock not free after unlock")
	}
}

func TestKeysAreVersioned(t *testing.T) {
	for _, k := range []string{changeKey("x"), userLatestKey("x"), userLockKey("x")} {
		if !strings.HasPrefix(k, "v1_") {
			t.Errorf("key %q is not versioned", k)
		}
		if len(changeKey(strings.Repeat("a", 26))) > 150 {
			t.Errorf("key too long for the KV store")
		}
	}
}
