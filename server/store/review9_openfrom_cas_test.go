package store

import (
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// review9HookKV runs hook once, just before the first read of the start
// day (v1_openfrom) through it: another node's work landing there.
type review9HookKV struct {
	*pluginapi.MemoryStore
	hook func()
}

func (k *review9HookKV) Get(key string, o any) error {
	if key == keyOpenFrom && k.hook != nil {
		h := k.hook
		k.hook = nil
		h()
	}
	return k.MemoryStore.Get(key, o)
}

// Review 9, finding (low severity: needs an open change of a day older
// than openSlack to reach the index by day through the old keys while
// another node reads): OpenChanges reads the list of days (v1_days) before
// the start day (v1_openfrom), and compares-and-sets the start against the
// value read second. A legacy move by another node that lands between the
// two reads (it writes the old day's entry, resets the start, and may have
// set it again) is missed by the reader's list of days, yet the reader's
// compare-and-set is against the start as it stood after the reset, so it
// succeeds: the start moves past the day just moved, and no node finds that
// open change again (the old keys are emptied, nothing resets the start).
// The reset (a Delete) is also invisible to a compare-and-set that read the
// key absent before it.
func TestReview9StartMovedPastALegacyMoveThatLandedMidRead(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	kv := &review9HookKV{MemoryStore: mem}
	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	if _, err := mem.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	b := NewWithClock(kv, clock)               // the reader
	if _, err := b.OpenChanges(); err != nil { // b looks at the old keys: empty
		t.Fatal(err)
	}

	// A node on an earlier version keeps an open change of last week in
	// the old index (record and shard only).
	week := now.Add(-7 * 24 * time.Hour)
	c := account.Change{ID: "lastweek", UserID: "u5", State: account.StateMattermostChanged, CreatedAt: week, UpdatedAt: week, Version: 2}
	if _, err := mem.Set(changeKey(c.ID), c); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Set(openShardKey(3), map[string]account.OpenChange{c.ID: {ID: c.ID, UserID: c.UserID, State: c.State, UpdatedAt: c.UpdatedAt}}); err != nil {
		t.Fatal(err)
	}

	// Node a moves it while b is between its read of the days and its read
	// of the start.
	a := NewWithClock(mem, clock)
	kv.hook = func() {
		open, err := a.OpenChanges()
		if err != nil || !review8Has(open, c.ID) {
			t.Errorf("node a: open %+v, %v: want the moved change", open, err)
		}
	}
	if _, err := b.OpenChanges(); err != nil {
		t.Fatal(err)
	}
	if kv.hook != nil {
		t.Fatal("the hook never ran")
	}

	var from string
	_ = mem.Get(keyOpenFrom, &from)
	for name, s := range map[string]*Store{"a": a, "b": b, "a fresh node": NewWithClock(mem, clock)} {
		open, err := s.OpenChanges()
		if err != nil {
			t.Fatal(err)
		}
		if !review8Has(open, c.ID) {
			t.Errorf("%s: open = %+v: the open change of %s (moved from the old index) is before the start day %s and no node finds it again", name, open, dayOf(week), from)
		}
	}
}
