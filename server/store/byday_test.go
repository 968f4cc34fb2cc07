package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// checkIndex fails the test unless the index by day holds exactly the
// stored records, each under its day with its state, and the list of days
// marks exactly the shards that hold entries.
func checkIndex(t *testing.T, kv KV, s *Store) {
	t.Helper()
	var marked map[string]uint16
	if err := kv.Get(keyDays, &marked); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for page := 0; ; page++ {
		k, err := kv.ListKeys(page, 1000)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k...)
		if len(k) < 1000 {
			break
		}
	}
	records := map[string]account.Change{}
	inIndex := map[string]dayEntry{}
	used := map[string]uint16{}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, keyChangePrefix):
			c, _, _ := s.GetChange(strings.TrimPrefix(k, keyChangePrefix))
			records[c.ID] = c
		case strings.HasPrefix(k, keyDayShard):
			var day string
			var n int
			if _, err := fmt.Sscanf(strings.TrimPrefix(k, keyDayShard), "%8s_%d", &day, &n); err != nil {
				t.Fatalf("index key %s: %v", k, err)
			}
			var list []dayEntry
			_ = kv.Get(k, &list)
			if len(list) == 0 {
				t.Errorf("empty index key %s left behind", k)
			}
			used[day] |= 1 << n
			for i, e := range list {
				if i > 0 && !newerFirst(list[i-1], e) {
					t.Errorf("%s is not newest first at %d", k, i)
				}
				if dayOf(e.CreatedAt) != day || dayShardOf(e.ID) != n {
					t.Errorf("%s holds %s of %s", k, e.ID, e.CreatedAt)
				}
				inIndex[e.ID] = e
			}
		}
	}
	if fmt.Sprint(used) != fmt.Sprint(marked) && !(len(used) == 0 && len(marked) == 0) {
		t.Errorf("days marked %v, shards used %v", marked, used)
	}
	for id, c := range records {
		e, ok := inIndex[id]
		if !ok || e.State != c.State || !e.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("record %s (%s) is in the index as %+v (%v)", id, c.State, e, ok)
		}
	}
	for id := range inIndex {
		if _, ok := records[id]; !ok {
			t.Errorf("index entry %s has no record", id)
		}
	}
}

// Saves and prunes keep the index by day equal to the records.
func TestIndexByDayFollowsSavesAndPrunes(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	clock := &testClock{}
	s.now = clock.now
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	var open []*account.Change
	for i := range 200 {
		at := now.Add(-time.Duration(i) * 71 * time.Minute) // 10 days
		clock.set(at)
		c := &account.Change{ID: fmt.Sprintf("c%03d", i), UserID: fmt.Sprintf("u%d", i%40), State: account.StateStarted, CreatedAt: at}
		if err := s.SaveChange(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0:
			open = append(open, c)
		case 1:
			c.State = account.StateMattermostChanged
			open = append(open, c)
		case 2:
			c.State = account.StateDone
		default:
			c.State = account.StateRolledBack
		}
		if err := s.SaveChange(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	checkIndex(t, kv, s)
	clock.set(now)
	if _, err := s.PruneChanges(5 * day); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, kv, s)
	// The old open ones end, and go at the next prune.
	for _, c := range open {
		c.State = account.StateFailed
		if err := s.SaveChange(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	clock.set(now.Add(20 * day))
	res, err := s.PruneChanges(5 * day)
	if err != nil || res.Kept != 0 {
		t.Fatalf("prune %+v %v", res, err)
	}
	checkIndex(t, kv, s)
	var left map[string]uint16
	_ = kv.Get(keyDays, &left)
	if len(left) != 0 {
		t.Errorf("days left after every record went: %v", left)
	}
}

// Many changes saved at the same moment, over a few days, all get their
// entry and their last state.
func TestIndexByDayUnderConcurrentChanges(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	now := time.Now()
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := account.Change{ID: fmt.Sprintf("c%03d", i), UserID: fmt.Sprintf("u%d", i), State: account.StateStarted, CreatedAt: now.Add(-time.Duration(i%3) * 24 * time.Hour)}
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
	checkIndex(t, kv, s)
	done, err := s.ListChanges(account.StateDone, 0, 200)
	if err != nil || len(done) != n/2 {
		t.Errorf("listed %d done (%v), want %d", len(done), err, n/2)
	}
}

// An entry whose record was never written (the write failed after the
// entry) is passed over by the list, which still fills its page, and
// removed by the prune.
func TestIndexEntryWithoutRecord(t *testing.T) {
	kv := &failingRecordKV{}
	s := New(kv)
	clock := &testClock{}
	s.now = clock.now
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "ghost", "b"} {
		at := now.Add(-time.Duration(10-i) * 24 * time.Hour)
		clock.set(at)
		err := s.SaveChange(context.Background(), &account.Change{ID: id, UserID: "u" + id, State: account.StateDone, CreatedAt: at})
		if (err != nil) != (id == "ghost") {
			t.Fatalf("saving %s: %v", id, err)
		}
	}
	if got, _ := s.ListChanges("", 0, 2); fmt.Sprint(ids(got)) != "[b a]" {
		t.Errorf("listed %v, want [b a]", ids(got))
	}
	clock.set(now)
	if _, err := s.PruneChanges(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, kv, s)
}

type failingRecordKV struct{ pluginapi.MemoryStore }

func (k *failingRecordKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == changeKey("ghost") {
		return false, errors.New("db down")
	}
	return k.MemoryStore.Set(key, value, options...)
}

// An entry keeps the state of the latest version saved, whichever update
// lands last (two nodes saving one after the other).
func TestIndexEntryKeepsTheLatestVersion(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := account.Change{ID: "c1", UserID: "u1", CreatedAt: at}
	for _, v := range []struct {
		version int64
		state   account.State
	}{{1, account.StateStarted}, {3, account.StateDone}, {2, account.StateMattermostChanged}} {
		c.Version, c.State = v.version, v.state
		if err := s.putDayEntry(c); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := s.readDay(dayOf(at), allShards)
	if len(entries) != 1 || entries[0].State != account.StateDone || entries[0].Version != 3 {
		t.Errorf("entries %+v, want c1 done at version 3", entries)
	}
}

// A change added to a shard while the prune unmarks it (the shard looked
// empty) marks it again: it is not lost to the list.
func TestPruneUnmarkingMeetsANewEntry(t *testing.T) {
	kv := &racingDaysKV{}
	s := New(kv)
	clock := &testClock{}
	s.now = clock.now
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	old := now.Add(-10 * 24 * time.Hour)
	clock.set(old)
	if err := s.SaveChange(context.Background(), &account.Change{ID: "gone", UserID: "u1", State: account.StateDone, CreatedAt: old}); err != nil {
		t.Fatal(err)
	}
	// Another node saves a change of that day, in the same shard, right
	// before the prune unmarks the shard.
	late := account.Change{ID: "late", UserID: "u2", State: account.StateMattermostChanged, CreatedAt: old.Add(time.Minute)}
	for i := 0; dayShardOf(late.ID) != dayShardOf("gone"); i++ {
		late.ID = fmt.Sprintf("late%d", i)
	}
	other := New(&kv.MemoryStore)
	other.now = clock.now
	kv.before = func() {
		if err := other.SaveChange(context.Background(), &late); err != nil {
			t.Error(err)
		}
	}
	clock.set(now)
	if _, err := s.PruneChanges(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if !kv.raced {
		t.Fatal("the race did not happen")
	}
	checkIndex(t, kv, s)
	if got, _ := s.ListChanges("", 0, 10); fmt.Sprint(ids(got)) != "["+late.ID+"]" {
		t.Errorf("listed %v, want the late change", ids(got))
	}
}

// racingDaysKV runs before once, when the list of days is about to lose a
// shard.
type racingDaysKV struct {
	pluginapi.MemoryStore
	before func()
	raced  bool
}

func (k *racingDaysKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == keyDays && k.before != nil && !k.raced {
		if m, ok := value.(map[string]uint16); value == nil || (ok && len(m) == 0) {
			k.raced = true
			k.before()
		}
	}
	return k.MemoryStore.Set(key, value, options...)
}

func TestIndexKeysAreVersioned(t *testing.T) {
	for _, k := range []string{dayShardKey("20261123", dayShards-1), keyDays, keyDaysBuilt} {
		if !strings.HasPrefix(k, "v1_") || strings.HasPrefix(k, keyChangePrefix) || len(k) > 150 {
			t.Errorf("key %q: not versioned, too long or mistaken for a record", k)
		}
	}
}
