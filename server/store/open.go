package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The open changes are the open entries of the index by day: a change's
// save writes its day entry anyway, so the job finds it there and no second
// index is kept (one read and one write fewer at each end of a change). The
// job reads only the days from the oldest that still had an open change
// (keyOpenFrom): a new entry only ever goes to the day its change was
// created, and a change is created less than openSlack before its entry is
// written, so no earlier day gains an open change. Every reader starts at
// openSlack ago by its own clock at the latest: a node whose clock runs
// ahead (by up to a day) hides nothing from the others, nor they from it.

// openSlack is how far back from now an entry may still be added: a
// change's flow (account.MaxDuration, under a minute) and the clocks of
// the nodes, which may be wrong by hours (a hardware clock on local time
// read as UTC).
const openSlack = 26 * time.Hour

// legacyOpenRecheck is how often a node looks again at the index of open
// changes kept by earlier versions (empty once moved): a node still on one
// of them during an upgrade may add to it.
const legacyOpenRecheck = 10 * time.Minute

// OpenChanges lists the open changes, oldest save first. Entries of the
// index kept before (its own keys) are moved into the index by day first.
func (s *Store) OpenChanges() ([]account.OpenChange, error) {
	if err := s.ensureDayIndex(); err != nil {
		return nil, err
	}
	if err := s.moveLegacyOpen(); err != nil {
		return nil, err
	}
	// The start before the days: a move of the old index landing after
	// this read changes the start (moveLegacyOpen), so the compare-and-set
	// below fails; one that landed before is in the days read next.
	fromRaw, from, err := s.openFrom()
	if err != nil {
		return nil, err
	}
	days, err := s.days()
	if err != nil {
		return nil, err
	}
	if limit := dayOf(s.now().Add(-openSlack)); from > limit {
		from = limit // the start was stored by a node whose clock runs ahead
	}
	var out []account.OpenChange
	oldest := ""
	for _, d := range days {
		if d.Day < from {
			continue
		}
		entries, err := s.readDay(d.Day, d.Shards)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.State.Open() {
				continue
			}
			o, ok, err := s.openEntry(e)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if oldest == "" {
				oldest = d.Day // days go oldest first
			}
			out = append(out, o)
		}
	}
	s.moveOpenFrom(fromRaw, from, oldest)
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

// openEntry is an open entry as the job reads it. One written before the
// entries held the user (an earlier version) is completed from its record,
// and rewritten so; ok is false when that record is gone (a save cut
// short: nothing to carry on).
func (s *Store) openEntry(e dayEntry) (account.OpenChange, bool, error) {
	if e.UserID != "" {
		return e.openChange(), true, nil
	}
	c, ok, err := s.GetChange(e.ID)
	if err != nil || !ok {
		return account.OpenChange{}, false, err
	}
	if err := s.putDayEntry(c); err != nil {
		return account.OpenChange{}, false, err
	}
	if !c.State.Open() {
		return account.OpenChange{}, false, nil
	}
	return entryOf(c).openChange(), true, nil
}

// openFrom reads the first day the open changes are read from ("" for
// every day), with its stored bytes.
func (s *Store) openFrom() ([]byte, string, error) {
	var raw []byte
	if err := s.kv.Get(keyOpenFrom, &raw); err != nil {
		return nil, "", fmt.Errorf("store: reading where the open changes start: %w", err)
	}
	var from string
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &from); err != nil {
			return nil, "", fmt.Errorf("store: decoding where the open changes start: %w", err)
		}
	}
	return raw, from, nil
}

// moveOpenFrom moves the first day the open changes are read from to the
// oldest day that had one, or to openSlack ago when that is earlier. It is
// compared and set against what was read (a reader that came later and
// moved it wins). A failed write
// only means more days are read next time.
func (s *Store) moveOpenFrom(fromRaw []byte, from, oldest string) {
	next := dayOf(s.now().Add(-openSlack))
	if oldest != "" && oldest < next {
		next = oldest
	}
	if next > from {
		value, err := json.Marshal(next)
		if err != nil {
			return
		}
		_, _ = s.kv.Set(keyOpenFrom, value, pluginapi.SetAtomic(fromRaw))
	}
}

// DropOpen takes out of the index an entry whose record is gone.
func (s *Store) DropOpen(e account.OpenChange) error {
	if e.CreatedAt.IsZero() {
		return nil
	}
	if err := s.dropDayEntry(e.ID, e.CreatedAt, 0); err != nil {
		return fmt.Errorf("store: removing change %s from the open changes: %w", e.ID, err)
	}
	return nil
}

// dropDayEntry removes id's entry from its day; at version > 0, only while
// the entry is at that version.
func (s *Store) dropDayEntry(id string, created time.Time, version int64) error {
	_, err := s.updateDayShard(dayOf(created), dayShardOf(id), func(list []dayEntry) ([]dayEntry, bool) {
		for i, e := range list {
			if e.ID == id && (version == 0 || e.Version == version) {
				return append(list[:i:i], list[i+1:]...), true
			}
		}
		return list, false
	})
	return err
}

// moveLegacyOpen moves the index of open changes kept under keys of its
// own by earlier versions (one key, then shards) into the index by day:
// each entry's record is written to its day entry, the start of the reads
// is reset (the records' days may be older), and only then is each key
// removed, only if nobody added to it meanwhile. A node looks at those keys
// on its first read and every legacyOpenRecheck after (cheap while they are
// empty): a node still on an earlier version, during an upgrade, may add to
// them, and its change is moved then.
func (s *Store) moveLegacyOpen() error {
	s.legacyMu.Lock()
	defer s.legacyMu.Unlock()
	now := s.now()
	if !s.legacyCheckedAt.IsZero() && now.Sub(s.legacyCheckedAt) < legacyOpenRecheck && !now.Before(s.legacyCheckedAt) {
		return nil
	}
	keys := []string{keyOpenIndex}
	for n := range legacyOpenShards {
		keys = append(keys, openShardKey(n))
	}
	found := map[string][]byte{}
	moved := false
	for _, key := range keys {
		var raw []byte
		if err := s.kv.Get(key, &raw); err != nil {
			return fmt.Errorf("store: reading the open changes kept before: %w", err)
		}
		if len(raw) == 0 {
			continue
		}
		found[key] = raw
		var m map[string]account.OpenChange
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("store: decoding the open changes kept before: %w", err)
		}
		for id := range m {
			c, ok, err := s.GetChange(id)
			if err != nil {
				return err
			}
			if !ok {
				continue // a save cut short before its record
			}
			if err := s.putDayEntry(c); err != nil {
				return err
			}
			moved = true
		}
	}
	if moved {
		// Their days may be older than where the reads start: every day is
		// read once more. Before the keys go, so that a failure here leaves
		// them for the next call. A value of its own (before every day),
		// not a removal, so that a reader that read the start before it
		// cannot move it on.
		reset, err := json.Marshal(fmt.Sprintf("0-reset-%d", now.UnixNano()))
		if err != nil {
			return err
		}
		if _, err := s.kv.Set(keyOpenFrom, reset); err != nil {
			return fmt.Errorf("store: resetting where the open changes start: %w", err)
		}
	}
	all := true
	for _, key := range keys {
		raw, ok := found[key]
		if !ok {
			continue
		}
		removed, err := s.kv.Set(key, nil, pluginapi.SetAtomic(raw))
		if err != nil {
			return fmt.Errorf("store: removing the open changes kept before: %w", err)
		}
		all = all && removed
	}
	if all {
		s.legacyCheckedAt = now
	}
	return nil
}
