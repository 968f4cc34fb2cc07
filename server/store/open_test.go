package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Two writers that read the same version: the first save wins, the second
// gets ErrConflict and changes nothing.
func TestSaveChangeIsCompareAndSet(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := account.Change{ID: "c1", UserID: "u1", OldEmail: "a@x.org", NewEmail: "b@x.org", State: account.StateStarted, CreatedAt: now, UpdatedAt: now}
	if err := s.SaveChange(ctx, &c); err != nil || c.Version != 1 {
		t.Fatalf("first save: %v, version %d", err, c.Version)
	}
	nodeA, nodeB := c, c
	nodeA.State = account.StateDone
	if err := s.SaveChange(ctx, &nodeA); err != nil || nodeA.Version != 2 {
		t.Fatalf("node A: %v, version %d", err, nodeA.Version)
	}
	nodeB.State = account.StateMattermostChanged
	if err := s.SaveChange(ctx, &nodeB); !errors.Is(err, account.ErrConflict) || nodeB.Version != 1 {
		t.Fatalf("node B: %v, version %d; want a conflict", err, nodeB.Version)
	}
	got, _, _ := s.GetChange("c1")
	if !reflect.DeepEqual(got, nodeA) {
		t.Errorf("stored %+v, want node A's %+v", got, nodeA)
	}
	// A new record with an ID in use is a conflict too.
	dup := account.Change{ID: "c1", UserID: "u2", State: account.StateStarted}
	if err := s.SaveChange(ctx, &dup); !errors.Is(err, account.ErrConflict) {
		t.Errorf("duplicate new record: %v", err)
	}
	if latest, _, _ := s.LatestChange("u2"); latest.ID != "" {
		t.Errorf("the refused record became u2's latest: %+v", latest)
	}
}

// Open records are in the index with their next attempt; closing one takes
// it out.
func TestOpenChangesIndex(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	next := now.Add(30 * time.Second)
	a := account.Change{ID: "a", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &next, CreatedAt: now, UpdatedAt: now}
	b := account.Change{ID: "b", UserID: "u2", State: account.StatePendingVerification, CreatedAt: now, UpdatedAt: now.Add(time.Second)}
	done := account.Change{ID: "d", UserID: "u3", State: account.StateDone, CreatedAt: now, UpdatedAt: now}
	for _, c := range []*account.Change{&a, &b, &done} {
		s.now = func() time.Time { return c.UpdatedAt } // the store stamps the save
		if err := s.SaveChange(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	want := []account.OpenChange{
		{ID: "a", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &next, UpdatedAt: now, CreatedAt: now},
		{ID: "b", UserID: "u2", State: account.StatePendingVerification, UpdatedAt: now.Add(time.Second), CreatedAt: now},
	}
	if !reflect.DeepEqual(open, want) {
		t.Errorf("open = %+v\nwant %+v", open, want)
	}
	a.State, a.NextAttemptAt = account.StateCancelled, nil
	if err := s.SaveChange(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if open, _ = s.OpenChanges(); len(open) != 1 || open[0].ID != "b" {
		t.Errorf("after closing a: %+v", open)
	}
}

// A failing index write leaves the open record unwritten: an open record is
// never missing from the index.
func TestOpenRecordIsIndexedFirst(t *testing.T) {
	kv := &failingIndexKV{}
	s := New(kv)
	c := account.Change{ID: "a", UserID: "u1", State: account.StateWaitingForZulip}
	if err := s.SaveChange(context.Background(), &c); err == nil {
		t.Fatal("saved without an index")
	}
	if _, ok, _ := s.GetChange("a"); ok {
		t.Error("the open record was written although the index was not")
	}
}

type failingIndexKV struct{ pluginapi.MemoryStore }

func (k *failingIndexKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if strings.HasPrefix(key, keyDayShard) {
		return false, errors.New("db down")
	}
	return k.MemoryStore.Set(key, value, options...)
}

// Many changes saved at the same moment all get into the index, and out of
// it, though they meet on the same keys.
func TestOpenIndexUnderConcurrentChanges(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := account.Change{ID: fmt.Sprintf("c%03d", i), UserID: fmt.Sprintf("u%d", i), State: account.StateStarted}
			if err := s.SaveChange(context.Background(), &c); err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				c.State = account.StateDone
				if err := s.SaveChange(context.Background(), &c); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	open, err := s.OpenChanges()
	if err != nil || len(open) != n/2 {
		t.Fatalf("open = %d entries (%v), want %d", len(open), err, n/2)
	}
	for _, e := range open {
		var i int
		if _, err := fmt.Sscanf(e.ID, "c%03d", &i); err != nil || i%2 == 0 {
			t.Fatalf("entry %s should not be open", e.ID)
		}
	}
}

// An index entry whose record was never written can be dropped.
func TestDropOpen(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	created := time.Now().UTC()
	if err := s.putDayEntry(account.Change{ID: "ghost", UserID: "u1", State: account.StateWaitingForZulip, CreatedAt: created, Version: 1}); err != nil {
		t.Fatal(err)
	}
	open, _ := s.OpenChanges()
	if len(open) != 1 || open[0].ID != "ghost" {
		t.Fatalf("open = %+v, want the ghost", open)
	}
	if err := s.DropOpen(open[0]); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenChanges(); len(open) != 0 {
		t.Errorf("open = %+v", open)
	}
}

// When the first save fails on the user's latest-change pointer, nothing of
// the change is written: the caller tells the user nothing changed, and the
// job must not find the change and make it later.
func TestFailedFirstSaveLeavesNoRecord(t *testing.T) {
	kv := &failingLatestKV{}
	s := New(kv)
	c := account.Change{ID: "a", UserID: "u1", State: account.StateStarted}
	if err := s.SaveChange(context.Background(), &c); err == nil {
		t.Fatal("saved although the pointer failed")
	}
	if _, ok, _ := s.GetChange("a"); ok {
		t.Error("the record was written")
	}
	if open, _ := s.OpenChanges(); len(open) != 0 {
		t.Errorf("open = %+v", open)
	}
}

type failingLatestKV struct{ pluginapi.MemoryStore }

func (k *failingLatestKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == userLatestKey("u1") {
		return false, errors.New("db down")
	}
	return k.MemoryStore.Set(key, value, options...)
}
