package store

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// oldVersionSave writes c as a version before the index by day held the
// open changes did: the record, a day entry with its state only, and (when
// open) an entry under legacyKey, the single key or one of its shards.
func oldVersionSave(t *testing.T, kv KV, c account.Change, legacyKey string) {
	t.Helper()
	if _, err := kv.Set(changeKey(c.ID), c); err != nil {
		t.Fatal(err)
	}
	day, n := dayOf(c.CreatedAt), dayShardOf(c.ID)
	var list []dayEntry
	if err := kv.Get(dayShardKey(day, n), &list); err != nil {
		t.Fatal(err)
	}
	list, _, _ = upsert(list, dayEntry{ID: c.ID, CreatedAt: c.CreatedAt, State: c.State, Version: c.Version})
	if _, err := kv.Set(dayShardKey(day, n), list); err != nil {
		t.Fatal(err)
	}
	var days map[string]uint16
	if err := kv.Get(keyDays, &days); err != nil {
		t.Fatal(err)
	}
	if days == nil {
		days = map[string]uint16{}
	}
	days[day] |= 1 << n
	if _, err := kv.Set(keyDays, days); err != nil {
		t.Fatal(err)
	}
	if legacyKey == "" {
		return
	}
	var m map[string]account.OpenChange
	if err := kv.Get(legacyKey, &m); err != nil {
		t.Fatal(err)
	}
	if m == nil {
		m = map[string]account.OpenChange{}
	}
	m[c.ID] = account.OpenChange{ID: c.ID, UserID: c.UserID, State: c.State, NextAttemptAt: c.NextAttemptAt, UpdatedAt: c.UpdatedAt}
	if _, err := kv.Set(legacyKey, m); err != nil {
		t.Fatal(err)
	}
}

// getsKV counts the reads of keys with a prefix.
type getsKV struct {
	pluginapi.MemoryStore
	mu     sync.Mutex
	prefix string
	gets   int
}

func (k *getsKV) Get(key string, o any) error {
	k.mu.Lock()
	if strings.HasPrefix(key, k.prefix) {
		k.gets++
	}
	k.mu.Unlock()
	return k.MemoryStore.Get(key, o)
}

// An upgrade loses no open change: the index of open changes of earlier
// versions (a single key, then shards) is moved into the index by day,
// whose entries get what the job needs from the records; entries without a
// record, or whose record ended, are not carried on; the old keys are
// removed, and read no more once a marker says so.
func TestLegacyOpenIndexMovedIntoTheDays(t *testing.T) {
	kv := &getsKV{prefix: keyOpenShard}
	now := time.Now().UTC().Truncate(time.Second)
	s := NewWithClock(kv, func() time.Time { return now })
	if _, err := kv.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	lastWeek := now.Add(-7 * 24 * time.Hour)
	next := now.Add(time.Minute)
	old1 := account.Change{ID: "old1", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &next, CreatedAt: lastWeek, UpdatedAt: lastWeek, Version: 3}
	old2 := account.Change{ID: "old2", UserID: "u2", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now.Add(time.Second), Version: 2}
	ended := account.Change{ID: "ended", UserID: "u3", State: account.StateDone, CreatedAt: now, UpdatedAt: now, Version: 4}
	oldVersionSave(t, kv, old1, keyOpenIndex)
	oldVersionSave(t, kv, old2, openShardKey(5))
	oldVersionSave(t, kv, ended, openShardKey(5)) // its save was cut short before the index
	var m map[string]account.OpenChange
	_ = kv.Get(openShardKey(5), &m)
	m["gone"] = account.OpenChange{ID: "gone", UserID: "u4", State: account.StateStarted} // no record
	if _, err := kv.Set(openShardKey(5), m); err != nil {
		t.Fatal(err)
	}

	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	want := []account.OpenChange{entryOf(old1).openChange(), entryOf(old2).openChange()}
	if !reflect.DeepEqual(open, want) {
		t.Fatalf("open = %+v\nwant %+v", open, want)
	}
	if want[0].UserID != "u1" || want[0].NextAttemptAt == nil || !want[0].CreatedAt.Equal(lastWeek) {
		t.Fatalf("the job's fields are missing: %+v", want[0])
	}
	for _, key := range []string{keyOpenIndex, openShardKey(5)} {
		var left []byte
		if err := kv.MemoryStore.Get(key, &left); err != nil || left != nil {
			t.Errorf("%s still holds %s (%v)", key, left, err)
		}
	}
	// The day entries now hold the job's fields: no record is read for them.
	list, _ := s.readDay(dayOf(lastWeek), allShards)
	if len(list) != 1 || list[0].UserID != "u1" {
		t.Errorf("last week's entries %+v", list)
	}

	// Later reads skip the old keys for legacyOpenRecheck, then look again
	// (a node on an earlier version may add to them during an upgrade).
	kv.gets = 0
	if open, err := s.OpenChanges(); err != nil || len(open) != 2 {
		t.Fatalf("again: %+v %v", open, err)
	}
	if kv.gets != 0 {
		t.Errorf("the old keys read %d times right after the move", kv.gets)
	}
	now = now.Add(legacyOpenRecheck)
	if _, err := s.OpenChanges(); err != nil || kv.gets != legacyOpenShards {
		t.Errorf("after %s the old keys read %d times, want each shard once (%v)", legacyOpenRecheck, kv.gets, err)
	}
}

// racingLegacyKV simulates a node still on the previous version (rolling
// upgrade) saving a new open change, its entry added to the single-key
// index, between the new node's read of that key and its removal.
type racingLegacyKV struct {
	pluginapi.MemoryStore
	t     *testing.T
	raced bool
}

func (k *racingLegacyKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == keyOpenIndex && value == nil && !k.raced {
		k.raced = true
		now := time.Now().UTC()
		oldVersionSave(k.t, &k.MemoryStore, account.Change{ID: "fromOldNode", UserID: "u9", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now, Version: 1}, keyOpenIndex)
	}
	return k.MemoryStore.Set(key, value, options...)
}

func TestLegacyIndexMoveKeepsAConcurrentEntry(t *testing.T) {
	kv := &racingLegacyKV{t: t}
	s := New(kv)
	now := time.Now().UTC()
	oldVersionSave(t, &kv.MemoryStore, account.Change{ID: "old1", UserID: "u1", State: account.StateWaitingForZulip, CreatedAt: now, UpdatedAt: now, Version: 1}, keyOpenIndex)
	if _, err := s.OpenChanges(); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, e := range open {
		found[e.ID] = e.UserID
	}
	if found["fromOldNode"] != "u9" || found["old1"] != "u1" {
		t.Fatalf("open = %+v: want old1 and the old node's change, with their users", open)
	}
	var left map[string]account.OpenChange
	if err := kv.MemoryStore.Get(keyOpenIndex, &left); err != nil || left != nil {
		t.Errorf("the old key still holds %v (%v)", left, err)
	}
}

// recordReadsKV counts the reads of change records and the writes of the
// start of the open changes.
type recordReadsKV struct {
	pluginapi.MemoryStore
	mu                  sync.Mutex
	records, fromWrites int
}

func (k *recordReadsKV) Get(key string, o any) error {
	k.mu.Lock()
	if strings.HasPrefix(key, keyChangePrefix) {
		k.records++
	}
	k.mu.Unlock()
	return k.MemoryStore.Get(key, o)
}

func (k *recordReadsKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	k.mu.Lock()
	if key == keyOpenFrom {
		k.fromWrites++
	}
	k.mu.Unlock()
	return k.MemoryStore.Set(key, value, options...)
}

// An open entry an earlier version wrote after the move (a node not yet
// upgraded) is completed from its record once, and rewritten so; one whose
// record ended since is not carried on. Reads that find nothing new write
// nothing.
func TestOldStyleOpenEntryCompletedOnce(t *testing.T) {
	kv := &recordReadsKV{}
	now := time.Now().UTC().Truncate(time.Second)
	s := NewWithClock(kv, func() time.Time { return now })
	if _, err := kv.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now, Version: 1}
	oldVersionSave(t, &kv.MemoryStore, c, "")
	ended := account.Change{ID: "c2", UserID: "u2", State: account.StateStarted, CreatedAt: now, UpdatedAt: now, Version: 1}
	oldVersionSave(t, &kv.MemoryStore, ended, "")
	ended.State, ended.Version = account.StateDone, 2
	if _, err := kv.MemoryStore.Set(changeKey("c2"), ended); err != nil { // its entry still says started
		t.Fatal(err)
	}

	open, err := s.OpenChanges()
	if err != nil || len(open) != 1 || open[0] != entryOf(c).openChange() {
		t.Fatalf("open %+v %v: want c1 with its user", open, err)
	}
	if kv.records != 2 {
		t.Errorf("%d records read, want the two old-style entries'", kv.records)
	}
	kv.records, kv.fromWrites = 0, 0
	if open, err = s.OpenChanges(); err != nil || len(open) != 1 || open[0].UserID != "u1" {
		t.Fatalf("again: %+v %v", open, err)
	}
	if kv.records != 0 || kv.fromWrites != 0 {
		t.Errorf("again: %d records read, %d writes of the start: want none", kv.records, kv.fromWrites)
	}
}
