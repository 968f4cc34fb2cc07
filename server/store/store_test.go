package store

import (
	"context"
	"errors"
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

// recordingKV remembers the options of every Set.
type recordingKV struct {
	pluginapi.MemoryStore
	sets map[string]pluginapi.KVSetOptions
}

func (r *recordingKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	var o pluginapi.KVSetOptions
	for _, f := range options {
		f(&o)
	}
	if r.sets == nil {
		r.sets = map[string]pluginapi.KVSetOptions{}
	}
	r.sets[key] = o
	return r.MemoryStore.Set(key, value, options...)
}

func TestLockExpiresAndOutlivesTheFlow(t *testing.T) {
	kv := &recordingKV{}
	s := New(kv)
	if _, ok, err := s.TryLock(context.Background(), "u1"); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	o := kv.sets[userLockKey("u1")]
	if !o.Atomic || o.ExpireInSeconds != int64(DefaultLockTTL/time.Second) {
		t.Errorf("lock written with %+v, want atomic with a %s expiry", o.PluginKVSetOptions, DefaultLockTTL)
	}
	if DefaultLockTTL < 2*account.MaxDuration {
		t.Errorf("the lock (%s) does not outlive the longest change (%s) twice", DefaultLockTTL, account.MaxDuration)
	}
}

func TestUnlockFreesOnlyItsOwnLock(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	unlockA, ok, _ := s.TryLock(context.Background(), "u1")
	if !ok {
		t.Fatal("first lock")
	}
	var tokenA string
	_ = kv.Get(userLockKey("u1"), &tokenA)
	// A's lock expired and B took it.
	_ = kv.Delete(userLockKey("u1"))
	_, ok, _ = s.TryLock(context.Background(), "u1")
	if !ok {
		t.Fatal("B could not take the expired lock")
	}
	var tokenB string
	_ = kv.Get(userLockKey("u1"), &tokenB)
	if tokenA == "" || tokenA == tokenB {
		t.Fatalf("tokens %q %q are not random per holder", tokenA, tokenB)
	}
	unlockA() // late release by A
	if _, ok, _ := s.TryLock(context.Background(), "u1"); ok {
		t.Fatal("A's late unlock freed B's lock")
	}
}

func TestLinks(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	ann := account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkCodeMethod, LinkedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	if err := s.AddLink(ann); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Link("u1")
	if err != nil || !ok || got != ann {
		t.Fatalf("link = %+v ok=%v err=%v", got, ok, err)
	}
	if err := s.AddLink(account.Link{UserID: "u2", ZulipUserID: 10}); !errors.Is(err, account.ErrAlreadyLinked) {
		t.Errorf("a second user linked to the same Zulip account: %v", err)
	}
	if err := s.AddLink(account.Link{UserID: "u1", ZulipUserID: 11}); !errors.Is(err, account.ErrAlreadyLinked) {
		t.Errorf("a user linked twice: %v", err)
	}
	// The failed attempt must not have kept Zulip account 11.
	if err := s.AddLink(account.Link{UserID: "u3", ZulipUserID: 11}); err != nil {
		t.Errorf("Zulip account 11 left reserved: %v", err)
	}
	if _, ok, _ := s.Link("u2"); ok {
		t.Error("u2 got a link")
	}

	old, ok, err := s.RemoveLink("u1")
	if err != nil || !ok || old != ann {
		t.Fatalf("unlink = %+v %v %v", old, ok, err)
	}
	if _, ok, _ := s.Link("u1"); ok {
		t.Error("still linked after unlink")
	}
	if err := s.AddLink(account.Link{UserID: "u2", ZulipUserID: 10}); err != nil {
		t.Errorf("Zulip account 10 not free after unlink: %v", err)
	}
	if _, ok, _ := s.RemoveLink("nobody"); ok {
		t.Error("unlinked a user without a link")
	}
}

func TestAddLinkTakesOverAStaleReverseKey(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	// An unlink interrupted between its two deletes left the reverse key.
	if _, err := kv.Set(zulipOwnerKey(10), "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddLink(account.Link{UserID: "u2", ZulipUserID: 10}); err != nil {
		t.Fatalf("stale reverse key blocks the account: %v", err)
	}
	var owner string
	_ = kv.Get(zulipOwnerKey(10), &owner)
	if owner != "u2" {
		t.Errorf("owner = %q", owner)
	}
}

func TestUsageAndLinkCodes(t *testing.T) {
	kv := &recordingKV{}
	s := New(kv)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	u := account.UserUsage{Changes: []time.Time{now}, Attempts: []time.Time{now, now.Add(time.Minute)}}
	if err := s.SaveUsage("u1", u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Usage("u1")
	if err != nil || len(got.Changes) != 1 || !got.Changes[0].Equal(now) || len(got.Attempts) != 2 {
		t.Errorf("usage = %+v %v", got, err)
	}
	if kv.sets[usageKey("u1")].ExpireInSeconds <= 24*3600 {
		t.Errorf("usage kept for %ds, want a little over a day", kv.sets[usageKey("u1")].ExpireInSeconds)
	}
	if empty, err := s.Usage("u2"); err != nil || len(empty.Changes) != 0 {
		t.Errorf("empty usage = %+v %v", empty, err)
	}

	lc := account.LinkCode{ZulipUserID: 10, ZulipAddress: "a@x.org", Hash: "h", ExpiresAt: now, TriesLeft: 5, Sent: []time.Time{now}}
	if err := s.SaveLinkCode("u1", lc); err != nil {
		t.Fatal(err)
	}
	gotLC, ok, err := s.LinkCode("u1")
	if err != nil || !ok || gotLC.Hash != "h" || gotLC.ZulipUserID != 10 || gotLC.TriesLeft != 5 || !gotLC.ExpiresAt.Equal(now) {
		t.Errorf("link code = %+v %v %v", gotLC, ok, err)
	}
	if kv.sets[linkCodeKey("u1")].ExpireInSeconds <= 0 {
		t.Error("link codes never expire")
	}
	if err := s.DeleteLinkCode("u1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.LinkCode("u1"); ok {
		t.Error("link code not deleted")
	}
}

func TestPruneChanges(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	save := func(id, user string, state account.State, age time.Duration) {
		t.Helper()
		at := now.Add(-age)
		s.now = func() time.Time { return at } // saved then
		if err := s.SaveChange(context.Background(), &account.Change{ID: id, UserID: user, State: state, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	save("old1", "u1", account.StateDone, 100*day)
	save("old2", "u1", account.StateRolledBack, 95*day) // u1's latest, old too
	save("old3", "u2", account.StateDone, 120*day)
	save("new3", "u2", account.StateDone, 1*day) // u2's latest, young
	save("pend", "u3", account.StatePendingVerification, 100*day)
	save("ancient", "u4", account.StatePendingVerification, 200*day) // open: kept until it ends
	s.now = func() time.Time { return now }

	res, err := s.PruneChanges(90 * day)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 3 || res.Kept != 2 {
		t.Errorf("result = %+v, want 3 deleted, the 2 old open ones kept", res)
	}
	for id, want := range map[string]bool{"old1": false, "old2": false, "old3": false, "new3": true, "pend": true, "ancient": true} {
		if _, ok, _ := s.GetChange(id); ok != want {
			t.Errorf("%s kept = %v, want %v", id, ok, want)
		}
	}
	if _, ok, err := s.LatestChange("u1"); ok || err != nil {
		t.Errorf("u1's index still points at a deleted record (ok=%v err=%v)", ok, err)
	}
	if c, ok, _ := s.LatestChange("u2"); !ok || c.ID != "new3" {
		t.Errorf("u2's latest = %+v %v, want new3", c, ok)
	}
}

func TestKeysAreVersioned(t *testing.T) {
	for _, k := range []string{changeKey("x"), userLatestKey("x"), userLockKey("x"), linkKey("x"), zulipOwnerKey(1), linkCodeKey("x"), usageKey("x")} {
		if !strings.HasPrefix(k, "v1_") {
			t.Errorf("key %q is not versioned", k)
		}
	}
	if len(changeKey(strings.Repeat("a", 26))) > 150 || len(linkCodeKey(strings.Repeat("a", 26))) > 150 {
		t.Errorf("key too long for the KV store")
	}
}
