package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// dayReads is the reads of each day's shards in calls (callsKV's counts).
func dayReads(calls map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range calls {
		if rest, ok := strings.CutPrefix(k, "get "+keyDayShard); ok {
			out[strings.TrimSuffix(rest, "_")] += n
		}
	}
	return out
}

// The open changes are read from the oldest day that still had one: once
// an old change ends, its day is not read again; today's are always read,
// and so are the last openSlack's, where a change made just before
// midnight may still be written.
func TestOpenChangesReadFromTheOldestOpenDay(t *testing.T) {
	kv := newCallsKV(&pluginapi.MemoryStore{})
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := NewWithClock(kv, func() time.Time { return clock })
	ctx := context.Background()
	fiveDays, threeDays := clock.Add(-5*24*time.Hour), clock.Add(-3*24*time.Hour)
	a := account.Change{ID: "a", UserID: "u1", State: account.StatePendingVerification, CreatedAt: fiveDays}
	b := account.Change{ID: "b", UserID: "u2", State: account.StateDone, CreatedAt: threeDays}
	for _, c := range []*account.Change{&a, &b} {
		if err := s.SaveChange(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	open, err := s.OpenChanges()
	if err != nil || len(open) != 1 || open[0].ID != "a" {
		t.Fatalf("open %+v %v: want a", open, err)
	}
	kv.take()
	if open, _ = s.OpenChanges(); len(open) != 1 {
		t.Fatalf("again: %+v", open)
	}
	if r := dayReads(kv.take()); r[dayOf(fiveDays)] == 0 || r[dayOf(threeDays)] == 0 {
		t.Errorf("reads %v: want a's day and the days after it read", r)
	}

	a.State = account.StateExpired
	if err := s.SaveChange(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if open, _ = s.OpenChanges(); len(open) != 0 {
		t.Fatalf("after a ended: %+v", open)
	}
	kv.take()
	if open, _ = s.OpenChanges(); len(open) != 0 {
		t.Fatalf("again: %+v", open)
	}
	if r := dayReads(kv.take()); r[dayOf(fiveDays)] != 0 || r[dayOf(threeDays)] != 0 {
		t.Errorf("reads %v: the days without an open change are read still", r)
	}

	// Just past midnight, a change made a minute before it is written now
	// into yesterday: it is found.
	clock = time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC)
	late := account.Change{ID: "late", UserID: "u3", State: account.StateStarted, CreatedAt: clock.Add(-31 * time.Minute)}
	if _, err := s.OpenChanges(); err != nil { // the start moves on before the entry lands
		t.Fatal(err)
	}
	if err := s.SaveChange(ctx, &late); err != nil {
		t.Fatal(err)
	}
	if open, _ = s.OpenChanges(); len(open) != 1 || open[0].ID != "late" {
		t.Fatalf("open %+v: want the change made before midnight", open)
	}
	// A new node (nothing in memory) finds it as well.
	if open, _ = New(kv).OpenChanges(); len(open) != 1 || open[0].ID != "late" {
		t.Fatalf("another node: open %+v", open)
	}
}

// A new change whose record is not written leaves no entry; the entry a
// later save of another version holds is not taken out by it.
func TestUndoDayEntryOnlyOfItsVersion(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	now := time.Now().UTC()
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now, Version: 2}
	if err := s.putDayEntry(c); err != nil {
		t.Fatal(err)
	}
	s.undoDayEntry(account.Change{ID: "c1", CreatedAt: now, Version: 1})
	if list, _ := s.readDay(dayOf(now), allShards); len(list) != 1 || list[0].Version != 2 {
		t.Errorf("entries %+v: want version 2's kept", list)
	}
	s.undoDayEntry(account.Change{ID: "c1", CreatedAt: now, Version: 2})
	if list, _ := s.readDay(dayOf(now), allShards); len(list) != 0 {
		t.Errorf("entries %+v: want none", list)
	}
}

// A node whose clock runs a day ahead stores a start in the future; the
// others read from their own openSlack ago whatever is stored, and it reads
// from its own, which reaches back to today: an open change made by a
// node with the right clock is found by both.
func TestOpenChangesWithAClockADayAhead(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	ahead := NewWithClock(kv, func() time.Time { return now.Add(30 * time.Hour) })
	right := NewWithClock(kv, func() time.Time { return now })
	if _, err := ahead.OpenChanges(); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := kv.Get(keyOpenFrom, &stored); err != nil || stored <= dayOf(now) {
		t.Fatalf("stored start %q (%v): want the day-ahead node's future day", stored, err)
	}
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: now}
	if err := right.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Store{"right": right, "ahead by 6 h": NewWithClock(kv, func() time.Time { return now.Add(6 * time.Hour) })} {
		open, err := s.OpenChanges()
		if err != nil || len(open) != 1 || open[0].ID != "c1" {
			t.Errorf("%s: open %+v %v, want c1", name, open, err)
		}
	}
}
