package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The index by day lists every change record under the day (UTC) it was
// created: per day, a few KV values (spread by a hash of the ID, so that
// changes saved at the same moment rarely meet on one), each a list of
// entries newest first; and one value lists the days. A page of the admin
// list reads the days it spans and the records it shows; the prune reads
// only the days older than the retention. Each entry holds the state, so a
// filter by state reads no record it does not show.
//
// The index by day is also the index of open changes (open.go): an open
// change's entry holds what the job needs to tell when it is due (its
// user, its next attempt, its last save); an ended one's drops them.

// dayEntry is one change in the index by day.
type dayEntry struct {
	ID        string        `json:"id"`
	CreatedAt time.Time     `json:"created_at"`
	State     account.State `json:"state"`
	Version   int64         `json:"version"` // of the record the state was taken from

	// Of an open change only.
	UserID        string     `json:"user_id,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at,omitzero"`
}

func entryOf(c account.Change) dayEntry {
	e := dayEntry{ID: c.ID, CreatedAt: c.CreatedAt, State: c.State, Version: c.Version}
	if c.State.Open() {
		e.UserID, e.NextAttemptAt, e.UpdatedAt = c.UserID, c.NextAttemptAt, c.UpdatedAt
	}
	return e
}

// sameAs tells whether e holds all that o does.
func (e dayEntry) sameAs(o dayEntry) bool {
	return e.State == o.State && e.Version == o.Version && e.UserID == o.UserID && e.UpdatedAt.Equal(o.UpdatedAt) &&
		(e.NextAttemptAt == nil) == (o.NextAttemptAt == nil) && (e.NextAttemptAt == nil || e.NextAttemptAt.Equal(*o.NextAttemptAt))
}

// openChange is the entry as the job reads it.
func (e dayEntry) openChange() account.OpenChange {
	return account.OpenChange{ID: e.ID, UserID: e.UserID, State: e.State, NextAttemptAt: e.NextAttemptAt, UpdatedAt: e.UpdatedAt, CreatedAt: e.CreatedAt}
}

// newerFirst orders entries newest first, by ID for the same time.
func newerFirst(a, b dayEntry) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// putDayEntry adds c to its day, or brings its entry to c's state unless
// the entry already holds a later version.
func (s *Store) putDayEntry(c account.Change) error {
	day, n := dayOf(c.CreatedAt), dayShardOf(c.ID)
	added := false
	_, err := s.updateDayShard(day, n, func(list []dayEntry) ([]dayEntry, bool) {
		var changed bool
		list, changed, added = upsert(list, entryOf(c))
		return list, changed
	})
	if err != nil {
		return fmt.Errorf("store: adding change %s to the index by day: %w", c.ID, err)
	}
	if added {
		// After the entry, so that a prune emptying the shard meanwhile
		// finds it when it looks again (see dropShards).
		return s.addShards(map[string]uint16{day: 1 << n})
	}
	return nil
}

// upsert puts e in the sorted list. changed is false when the list already
// holds e's version or a later one; added is true when e was not there.
func upsert(list []dayEntry, e dayEntry) (out []dayEntry, changed, added bool) {
	for i := range list {
		if list[i].ID != e.ID {
			continue
		}
		if list[i].Version > e.Version || list[i].sameAs(e) {
			return list, false, false
		}
		list[i] = e
		return list, true, false
	}
	i := sort.Search(len(list), func(i int) bool { return !newerFirst(list[i], e) })
	return slices.Insert(list, i, e), true, true
}

// updateDayShard changes one shard of a day with compare-and-set, retried
// like the open index; change reports whether it changed the list. It
// returns the list as stored afterwards.
func (s *Store) updateDayShard(day string, n int, change func([]dayEntry) ([]dayEntry, bool)) ([]dayEntry, error) {
	var out []dayEntry
	err := s.casUpdate(dayShardKey(day, n), func(old []byte) (any, bool, error) {
		list, err := decodeDay(old)
		if err != nil {
			return nil, false, err
		}
		list, changed := change(list)
		out = list
		if !changed {
			return nil, false, nil
		}
		if len(list) == 0 {
			return nil, true, nil // an empty shard is removed
		}
		return list, true, nil
	})
	return out, err
}

// readDay returns the entries of a day's shards in mask, newest first.
func (s *Store) readDay(day string, mask uint16) ([]dayEntry, error) {
	var all []dayEntry
	for n := range dayShards {
		if mask&(1<<n) == 0 {
			continue
		}
		var raw []byte
		if err := s.kv.Get(dayShardKey(day, n), &raw); err != nil {
			return nil, fmt.Errorf("store: reading the index of %s: %w", day, err)
		}
		list, err := decodeDay(raw)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	sort.Slice(all, func(i, j int) bool { return newerFirst(all[i], all[j]) })
	return all, nil
}

func decodeDay(raw []byte) ([]dayEntry, error) {
	var list []dayEntry
	if len(raw) == 0 {
		return list, nil
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("store: decoding the index by day: %w", err)
	}
	return list, nil
}

// allShards is the mask of every shard of a day.
const allShards = 1<<dayShards - 1

// dayShardsUsed is one day of the list of days: the shards that hold
// entries, a bit each, so that a day with few changes costs few reads.
type dayShardsUsed struct {
	Day    string
	Shards uint16
}

// days returns the days that have entries, oldest first.
func (s *Store) days() ([]dayShardsUsed, error) {
	var m map[string]uint16
	if err := s.kv.Get(keyDays, &m); err != nil {
		return nil, fmt.Errorf("store: reading the days of the index: %w", err)
	}
	out := make([]dayShardsUsed, 0, len(m))
	for day, mask := range m {
		out = append(out, dayShardsUsed{day, mask})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}

// addShards marks shards of days as used in the list of days. Today's
// (by this store's clock) are remembered once marked, so most saves do not
// read the list: no node unmarks a day younger than the retention (one day
// at least).
func (s *Store) addShards(add map[string]uint16) error {
	today := dayOf(s.now())
	if mask, ok := add[today]; ok && len(add) == 1 {
		s.todayMu.Lock()
		known := s.today.Day == today && mask&^s.today.Shards == 0
		s.todayMu.Unlock()
		if known {
			return nil
		}
	}
	var now map[string]uint16
	err := s.updateDays(func(m map[string]uint16) bool {
		changed := false
		for day, mask := range add {
			if m[day]|mask != m[day] {
				m[day] |= mask
				changed = true
			}
		}
		now = m
		return changed
	})
	if err != nil {
		return fmt.Errorf("store: adding to the days of the index: %w", err)
	}
	s.todayMu.Lock()
	s.today.Day, s.today.Shards = today, now[today]
	s.todayMu.Unlock()
	return nil
}

// dropShards unmarks a day's emptied shards, then looks at them again: an
// entry added meanwhile marks its shard again.
func (s *Store) dropShards(day string, mask uint16) error {
	err := s.updateDays(func(m map[string]uint16) bool {
		if m[day]&mask == 0 {
			return false
		}
		if m[day] &^= mask; m[day] == 0 {
			delete(m, day)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("store: removing %s from the days of the index: %w", day, err)
	}
	var back uint16
	for n := range dayShards {
		if mask&(1<<n) == 0 {
			continue
		}
		entries, err := s.readDay(day, 1<<n)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			back |= 1 << n
		}
	}
	if back == 0 {
		return nil
	}
	return s.addShards(map[string]uint16{day: back})
}

// updateDays changes the list of days with compare-and-set; change reports
// whether it changed the map.
func (s *Store) updateDays(change func(map[string]uint16) bool) error {
	return s.casUpdate(keyDays, func(old []byte) (any, bool, error) {
		m := map[string]uint16{}
		if len(old) > 0 {
			if err := json.Unmarshal(old, &m); err != nil {
				return nil, false, fmt.Errorf("decoding the days of the index: %w", err)
			}
		}
		if !change(m) {
			return nil, false, nil
		}
		if len(m) == 0 {
			return nil, true, nil
		}
		return m, true, nil
	})
}

// shardTries bounds the compare-and-set tries of one update of a key many
// writers share.
const shardTries = 50

// casUpdate reads key, asks change for the new value (nil removes the key;
// write false leaves it as it is) and writes it with compare-and-set,
// retried with a short random pause while others write the same key.
func (s *Store) casUpdate(key string, change func(old []byte) (value any, write bool, err error)) error {
	for range shardTries {
		var old []byte
		if err := s.kv.Get(key, &old); err != nil {
			return err
		}
		value, write, err := change(old)
		if err != nil || !write {
			return err
		}
		ok, err := s.kv.Set(key, value, pluginapi.SetAtomic(old))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(time.Millisecond + rand.N(4*time.Millisecond)) //nolint:gosec // a pause, not a secret
	}
	return fmt.Errorf("the key %s stayed busy for %d tries", key, shardTries)
}
