package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// callsKV counts every call by kind and key prefix.
type callsKV struct {
	*pluginapi.MemoryStore
	mu    sync.Mutex
	calls map[string]int // "get v1_change_", "set v1_bind_"...
}

func newCallsKV(kv *pluginapi.MemoryStore) *callsKV {
	return &callsKV{MemoryStore: kv, calls: map[string]int{}}
}

func (k *callsKV) note(kind, key string) {
	prefix := key
	if i := strings.LastIndexByte(key, '_'); i >= 0 {
		prefix = key[:i+1]
	}
	k.mu.Lock()
	k.calls[kind+" "+prefix]++
	k.mu.Unlock()
}

func (k *callsKV) Get(key string, o any) error {
	k.note("get", key)
	return k.MemoryStore.Get(key, o)
}

func (k *callsKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	k.note("set", key)
	return k.MemoryStore.Set(key, value, options...)
}

// take returns the counts since the last take.
func (k *callsKV) take() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := k.calls
	k.calls = map[string]int{}
	return out
}

// A change closed by the process that saved it last is compared and set
// against the bytes it wrote: no read of the record. Everything else about
// the save is as before: the record, the index of open changes, the day's
// entry.
func TestClosingSaveUsesTheBytesWrittenLast(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	kv := newCallsKV(mem)
	s := New(kv)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	c := account.Change{ID: "c1", UserID: "u1", OldEmail: "a@x.org", NewEmail: "b@x.org", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	kv.take()
	c.State = account.StateDone
	if err := s.SaveChange(ctx, &c); err != nil || c.Version != 2 {
		t.Fatalf("closing save: %v, version %d", err, c.Version)
	}
	calls := kv.take()
	if calls["get v1_change_"] != 0 || calls["set v1_change_"] != 1 {
		t.Errorf("closing save: %v; want one write of the record and no read", calls)
	}
	got, ok, err := s.GetChange("c1")
	if err != nil || !ok || !reflect.DeepEqual(got, c) {
		t.Errorf("stored %+v %v %v, want %+v", got, ok, err, c)
	}
	assertClosedEverywhere(t, s, c)
}

// assertClosedEverywhere checks that c is out of the index of open changes
// and that its day's entry holds its state and version.
func assertClosedEverywhere(t *testing.T, s *Store, c account.Change) {
	t.Helper()
	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range open {
		if e.ID == c.ID {
			t.Errorf("%s still in the open changes: %+v", c.ID, e)
		}
	}
	list, err := s.readDay(dayOf(c.CreatedAt), 0xffff)
	if err != nil {
		t.Fatal(err)
	}
	var mine []dayEntry
	for _, e := range list {
		if e.ID == c.ID {
			mine = append(mine, e)
		}
	}
	want := []dayEntry{{ID: c.ID, CreatedAt: c.CreatedAt, State: c.State, Version: c.Version}} // an ended change's entry: no job fields
	if !reflect.DeepEqual(mine, want) {
		t.Errorf("day entries of %s %+v, want %+v", c.ID, mine, want)
	}
}

// savedByTwoNodes saves c (open) on nodeA, then node B saves it again,
// waiting for Zulip with a next try a minute on: nodeA's remembered bytes
// are stale. It returns c as nodeA saved it and as node B did.
func savedByTwoNodes(t *testing.T, nodeA, nodeB *Store, c account.Change) (onA, onB account.Change) {
	t.Helper()
	ctx := context.Background()
	if err := nodeA.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	onB = c
	onB.State = account.StateWaitingForZulip
	later := c.CreatedAt.Add(time.Minute)
	onB.NextAttemptAt = &later
	if err := nodeB.SaveChange(ctx, &onB); err != nil {
		t.Fatal(err)
	}
	return c, onB
}

// When another node saved the record after this one, the bytes this one
// remembers are stale: its save reads and checks the version as always. At
// the version it had, it is a conflict and nothing moves; at the version
// it read since, the save goes through.
func TestClosingSaveAfterAnotherNodeSaved(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	nodeA, nodeB := New(newCallsKV(mem)), New(mem)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	c, onB := savedByTwoNodes(t, nodeA, nodeB, account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now})

	stale := c
	stale.State = account.StateDone
	if err := nodeA.SaveChange(ctx, &stale); !errors.Is(err, account.ErrConflict) || stale.Version != 1 {
		t.Fatalf("stale close: %v, version %d; want a conflict", err, stale.Version)
	}
	if got, _, _ := nodeA.GetChange("c1"); !reflect.DeepEqual(got, onB) {
		t.Errorf("stored %+v, want node B's %+v", got, onB)
	}
	open, _ := nodeA.OpenChanges()
	if len(open) != 1 || open[0].ID != "c1" || open[0].State != account.StateWaitingForZulip {
		t.Errorf("open changes %+v, want c1 waiting", open)
	}

	// Node A saves d at version 1, node B at 2; node A reads version 2 and
	// closes it: its remembered version-1 bytes are not taken for version
	// 2's (no compare-and-set that must fail).
	savedByTwoNodes(t, nodeA, nodeB, account.Change{ID: "d1", UserID: "u2", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now})
	fresh, _, _ := nodeA.GetChange("d1")
	fresh.State = account.StateDone
	kvA := nodeA.kv.(*callsKV)
	kvA.take()
	if err := nodeA.SaveChange(ctx, &fresh); err != nil || fresh.Version != 3 {
		t.Fatalf("close at the version read: %v, version %d", err, fresh.Version)
	}
	if calls := kvA.take(); calls["get v1_change_"] != 1 || calls["set v1_change_"] != 1 {
		t.Errorf("calls %v: want one read and one write of the record", calls)
	}
	if got, _, _ := nodeB.GetChange("d1"); !reflect.DeepEqual(got, fresh) {
		t.Errorf("stored %+v, want %+v", got, fresh)
	}
	assertClosedEverywhere(t, nodeA, fresh)
}

// Another node's write at the same version as the bytes remembered (the
// record saved, then saved again with the same version by nobody else is
// impossible, but bytes may still differ): the failed compare-and-set reads
// and tries once more at the stored bytes, as a save that read first.
func TestClosingSaveRetriesWhenTheBytesDiffer(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	kv := newCallsKV(mem)
	s := New(kv)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	// The stored JSON at the same version, spelled differently.
	var raw []byte
	_ = mem.Get(changeKey("c1"), &raw)
	respaced := []byte(strings.Replace(string(raw), `"version":1`, `"version": 1`, 1))
	if string(respaced) == string(raw) {
		t.Fatal("the record has no version field to respace")
	}
	if ok, err := mem.Set(changeKey("c1"), respaced, pluginapi.SetAtomic(raw)); err != nil || !ok {
		t.Fatal("respacing:", ok, err)
	}
	kv.take()
	c.State = account.StateDone
	if err := s.SaveChange(ctx, &c); err != nil || c.Version != 2 {
		t.Fatalf("close: %v, version %d", err, c.Version)
	}
	if calls := kv.take(); calls["get v1_change_"] != 1 || calls["set v1_change_"] != 2 {
		t.Errorf("calls %v: want the failed compare-and-set, one read and one more", calls)
	}
	assertClosedEverywhere(t, s, c)
}

// Bytes older than recentMaxAge are not taken: the save reads.
func TestRememberedBytesAge(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	kv := newCallsKV(mem)
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := NewWithClock(kv, func() time.Time { return clock })
	ctx := context.Background()
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: clock, UpdatedAt: clock}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(recentMaxAge + time.Second)
	kv.take()
	c.State = account.StateDone
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if calls := kv.take(); calls["get v1_change_"] != 1 {
		t.Errorf("calls %v: want the record read", calls)
	}

	var r recentBytes
	r.put("k", []byte("x"), clock)
	if _, ok := r.take("k", clock.Add(-time.Second)); ok {
		t.Error("bytes stamped after now were taken")
	}
	r.put("k", []byte("x"), clock)
	if b, ok := r.take("k", clock.Add(recentMaxAge)); !ok || string(b) != "x" {
		t.Errorf("at the age limit: %q %v", b, ok)
	}
	if _, ok := r.take("k", clock); ok {
		t.Error("taken twice")
	}
	for i := range recentMax + 1 {
		r.put(strings.Repeat("k", i+1), nil, clock)
	}
	if len(r.m) > recentMax {
		t.Errorf("%d keys remembered, want at most %d", len(r.m), recentMax)
	}
}

// The agreed address moved right after the link was read is compared and
// set against the bytes read: no second read. Another writer in between
// makes it read again and apply to what is stored; a link moved to another
// Zulip account meanwhile is left alone.
func TestSetAgreedEmailAfterReadingTheLink(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	kv := newCallsKV(mem)
	s, other := New(kv), New(mem)
	linkedAt := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ann := account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkCodeMethod, LinkedAt: linkedAt, AgreedEmail: "ann@example.org"}
	if err := s.AddLink(ann); err != nil {
		t.Fatal(err)
	}

	if _, _, err := s.Link("u1"); err != nil {
		t.Fatal(err)
	}
	kv.take()
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@new.example.org"); err != nil || !ok || before != "ann@example.org" {
		t.Fatalf("before %q, matched %v, err %v", before, ok, err)
	}
	if calls := kv.take(); calls["get v1_bind_"] != 0 || calls["set v1_bind_"] != 1 {
		t.Errorf("calls %v: want one write and no read", calls)
	}
	want := ann
	want.AgreedEmail = "ann@new.example.org"
	if got, _, _ := other.Link("u1"); got != want {
		t.Errorf("link %+v, want %+v", got, want)
	}

	// Read, then another node moves it: the write reads and applies.
	if _, _, err := s.Link("u1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.SetAgreedEmail("u1", 10, "ann@third.example.org"); err != nil {
		t.Fatal(err)
	}
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@fourth.example.org"); err != nil || !ok || before != "ann@third.example.org" {
		t.Fatalf("after another writer: before %q, matched %v, err %v", before, ok, err)
	}
	want.AgreedEmail = "ann@fourth.example.org"
	if got, _, _ := other.Link("u1"); got != want {
		t.Errorf("link %+v, want %+v", got, want)
	}

	// Read, then the link goes to another Zulip account: nothing written.
	if _, _, err := s.Link("u1"); err != nil {
		t.Fatal(err)
	}
	moved := want
	moved.ZulipUserID = 11
	var cur []byte
	_ = mem.Get(linkKey("u1"), &cur)
	if ok, err := mem.Set(linkKey("u1"), moved, pluginapi.SetAtomic(cur)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@fifth.example.org"); err != nil || ok || before != "" {
		t.Fatalf("moved link: before %q, matched %v, err %v", before, ok, err)
	}
	if got, _, _ := other.Link("u1"); got != moved {
		t.Errorf("link %+v, want %+v", got, moved)
	}

	// Remembered bytes that already hold the address are not trusted for
	// "nothing to write": the stored link is read.
	_ = mem.Get(linkKey("u1"), &cur)
	if ok, err := mem.Set(linkKey("u1"), want, pluginapi.SetAtomic(cur)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, _, err := s.Link("u1"); err != nil { // remembered: agreed on ann@fourth
		t.Fatal(err)
	}
	if _, _, err := other.SetAgreedEmail("u1", 10, "ann@sixth.example.org"); err != nil {
		t.Fatal(err)
	}
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@fourth.example.org"); err != nil || !ok || before != "ann@sixth.example.org" {
		t.Fatalf("remembered equal: before %q, matched %v, err %v", before, ok, err)
	}
	if got, _, _ := other.Link("u1"); got != want {
		t.Errorf("link %+v, want %+v", got, want)
	}
}

// A save that keeps the record open writes the index ahead of the record,
// so it never goes on remembered bytes: a stale writer is refused before it
// touches the index, which keeps the other node's entry.
func TestOpenSaveReadsBeforeTheIndex(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	nodeA, nodeB := New(mem), New(mem)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	c, onB := savedByTwoNodes(t, nodeA, nodeB, account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now})
	later := *onB.NextAttemptAt
	stale := c
	stale.State = account.StatePendingVerification
	if err := nodeA.SaveChange(ctx, &stale); !errors.Is(err, account.ErrConflict) {
		t.Fatalf("stale open save: %v; want a conflict", err)
	}
	open, err := nodeA.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	want := []account.OpenChange{{ID: "c1", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &later, UpdatedAt: onB.UpdatedAt, CreatedAt: now}}
	if !reflect.DeepEqual(open, want) {
		t.Errorf("open changes %+v, want node B's entry %+v", open, want)
	}
	list, _ := nodeA.readDay(dayOf(now), 0xffff)
	if len(list) != 1 || list[0].State != account.StateWaitingForZulip || list[0].Version != 2 {
		t.Errorf("day entries %+v, want node B's state at version 2", list)
	}
}
