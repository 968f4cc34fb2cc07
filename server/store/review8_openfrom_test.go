package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

func review8Has(open []account.OpenChange, id string) bool {
	for _, e := range open {
		if e.ID == id {
			return true
		}
	}
	return false
}

// Review 8, finding: the start day of the open changes (v1_openfrom) is
// persisted from one node's clock and only ever moves forward. One run of
// OpenChanges (the sync job, NextDue, the drift scan, a migration plan) on
// a node whose clock is ahead by more than openSlack plus the time left to
// midnight (e.g. a host whose hardware clock holds local time read as UTC,
// or a clock that jumped and was corrected) writes a day in the future. An
// open change created afterwards by a node with the right clock is written
// to today's entries, a day before the start: no node's job ever finds it
// again (the start never goes back), so it is never carried on — a change
// left split between Mattermost and Zulip with nobody to finish it. The old
// index of open changes read every entry, whatever the clocks.
func TestReview8ClockAheadHidesLaterOpenChanges(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	if _, err := kv.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	ahead := NewWithClock(kv, func() time.Time { return now.Add(6 * time.Hour) }) // a node 6 hours ahead
	right := NewWithClock(kv, func() time.Time { return now })

	if _, err := ahead.OpenChanges(); err != nil {
		t.Fatal(err)
	}

	// A change of the node with the right clock: Mattermost changed, Zulip
	// to follow (the job's work).
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now}
	if err := right.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}

	open, err := right.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	var from string
	_ = kv.Get(keyOpenFrom, &from)
	if !review8Has(open, "c1") {
		t.Fatalf("open = %+v: the open change c1 (day %s) is not found: the start day %s was set by a node whose clock is 6h ahead", open, dayOf(now), from)
	}
}

// Review 8, finding (lower severity: needs a node on a version older than
// the index by day during a rolling upgrade): once the marker
// v1_openmoved is set, the open-change keys of earlier versions are never
// read again. A node still on a version that wrote only those keys (the
// record, the user's pointer and v1_open_<n>, no day entry) keeps saving
// open changes there during the upgrade; the job of the new version never
// finds them. 759b905 read those keys on every run.
func TestReview8PreDayIndexNodeAfterTheMarker(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	now := time.Now().UTC().Truncate(time.Second)
	s := NewWithClock(kv, func() time.Time { return now })
	if _, err := kv.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenChanges(); err != nil { // nothing to move
		t.Fatal(err)
	}

	// The old node (no index by day) saves an open change: its record, its
	// pointer and its entry in its shard of the open changes.
	c := account.Change{ID: "old-node", UserID: "u7", State: account.StateWaitingForZulip, CreatedAt: now, UpdatedAt: now, Version: 1}
	if _, err := kv.Set(userLatestKey(c.UserID), c.ID); err != nil {
		t.Fatal(err)
	}
	shard := openShardKey(int(hashOf(c.ID) % legacyOpenShards))
	if _, err := kv.Set(shard, map[string]account.OpenChange{c.ID: {ID: c.ID, UserID: c.UserID, State: c.State, UpdatedAt: c.UpdatedAt}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Set(changeKey(c.ID), c); err != nil {
		t.Fatal(err)
	}

	open, err := New(kv).OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	if !review8Has(open, c.ID) {
		t.Fatalf("open = %+v: the old node's open change (in %s) is never found after the marker", open, shard)
	}
}

// review8DeleteFailsKV fails the first removal of the start day.
type review8DeleteFailsKV struct {
	pluginapi.MemoryStore
	failed bool
}

func (k *review8DeleteFailsKV) Delete(key string) error {
	if key == keyOpenFrom && !k.failed {
		k.failed = true
		return errTest("KV unavailable")
	}
	return k.MemoryStore.Delete(key)
}

// Set fails the first reset of the start (since the review's fix, a value
// of its own, not a removal).
func (k *review8DeleteFailsKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if b, ok := value.([]byte); ok && key == keyOpenFrom && !k.failed && strings.Contains(string(b), "0-reset") {
		k.failed = true
		return false, errTest("KV unavailable")
	}
	return k.MemoryStore.Set(key, value, options...)
}

type errTest string

func (e errTest) Error() string { return string(e) }

// Review 8, same finding, second way: moveLegacyOpen removes the old keys
// first and resets the start day (v1_openfrom) last. When that reset fails
// (or the process stops there: a plugin restart, during an upgrade), the
// next call finds the old keys empty, sets the marker and never resets the
// start: an open change moved into a day before it is never found.
func TestReview8LegacyMoveLostWhenTheStartResetFails(t *testing.T) {
	kv := &review8DeleteFailsKV{}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := NewWithClock(kv, func() time.Time { return now })
	if _, err := kv.Set(keyDaysBuilt, now); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Set(keyOpenFrom, dayOf(now)); err != nil { // an earlier run's start
		t.Fatal(err)
	}
	// An open change of last week known only to the old index (saved by a
	// node without the index by day).
	week := now.Add(-7 * 24 * time.Hour)
	c := account.Change{ID: "lastweek", UserID: "u5", State: account.StateMattermostChanged, CreatedAt: week, UpdatedAt: week, Version: 2}
	if _, err := kv.Set(changeKey(c.ID), c); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Set(openShardKey(3), map[string]account.OpenChange{c.ID: {ID: c.ID, UserID: c.UserID, State: c.State, UpdatedAt: c.UpdatedAt}}); err != nil {
		t.Fatal(err)
	}

	if _, err := s.OpenChanges(); err == nil {
		t.Fatal("want the failed reset reported")
	}
	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	if !review8Has(open, c.ID) {
		t.Fatalf("open = %+v: the moved change of %s is before the start day and never found again", open, dayOf(week))
	}
}
