package store

import (
	"fmt"
	"strings"
	"time"
)

// Records saved before the index by day existed are not in it. Before the
// index is first used to list or prune, they are added to it, once per
// store: a marker key says it was done. A store with no records yet needs
// nothing: the first new record a process saves finds that out and sets the
// marker, so the first listing does not go through the index.

// ensureDayIndex builds the index by day from the records not in it, unless
// the marker says that was done.
func (s *Store) ensureDayIndex() error {
	if s.dayIndexBuilt.Load() {
		return nil
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if done, err := s.dayIndexMarked(); done || err != nil {
		return err
	}
	ids, err := s.changeIDs(0)
	if err != nil {
		return err
	}
	indexed, err := s.indexedIDs()
	if err != nil {
		return err
	}
	type shard struct {
		day string
		n   int
	}
	missing := map[shard][]dayEntry{}
	used := map[string]uint16{}
	for _, id := range ids {
		if indexed[id] {
			continue
		}
		c, ok, err := s.GetChange(id)
		if err != nil {
			return err
		}
		if !ok {
			continue // deleted meanwhile
		}
		k := shard{dayOf(c.CreatedAt), dayShardOf(id)}
		used[k.day] |= 1 << k.n
		missing[k] = append(missing[k], entryOf(c))
	}
	for k, entries := range missing {
		if _, err := s.updateDayShard(k.day, k.n, func(list []dayEntry) ([]dayEntry, bool) {
			changed := false
			for _, e := range entries {
				var ch bool
				list, ch, _ = upsert(list, e)
				changed = changed || ch
			}
			return list, changed
		}); err != nil {
			return fmt.Errorf("store: building the index by day: %w", err)
		}
	}
	if len(used) > 0 {
		if err := s.addShards(used); err != nil {
			return err
		}
	}
	return s.markDayIndex()
}

// noteEmptyStore sets the marker when the store holds no change record
// yet, so that nothing needs building. It looks once per process, before
// the first new record is written; on any error it leaves the marker to
// the first listing.
func (s *Store) noteEmptyStore() {
	if s.dayIndexBuilt.Load() || !s.emptyChecked.CompareAndSwap(false, true) {
		return
	}
	if done, err := s.dayIndexMarked(); done || err != nil {
		return
	}
	if ids, err := s.changeIDs(1); err == nil && len(ids) == 0 {
		_ = s.markDayIndex()
	}
}

func (s *Store) dayIndexMarked() (bool, error) {
	var at time.Time
	if err := s.kv.Get(keyDaysBuilt, &at); err != nil {
		return false, fmt.Errorf("store: reading whether the index by day is built: %w", err)
	}
	if at.IsZero() {
		return false, nil
	}
	s.dayIndexBuilt.Store(true)
	return true, nil
}

func (s *Store) markDayIndex() error {
	if _, err := s.kv.Set(keyDaysBuilt, s.now().UTC()); err != nil {
		return fmt.Errorf("store: marking the index by day built: %w", err)
	}
	s.dayIndexBuilt.Store(true)
	return nil
}

// changeIDs lists the IDs of the stored records, up to limit (0: all). It
// pages through every key and filters itself: the KV store filters a prefix
// only within each page, so a page may hold no record although later
// pages do.
func (s *Store) changeIDs(limit int) ([]string, error) {
	var ids []string
	for page := 0; ; page++ {
		keys, err := s.kv.ListKeys(page, listPage)
		if err != nil {
			return nil, fmt.Errorf("store: listing change records: %w", err)
		}
		for _, k := range keys {
			if id, ok := strings.CutPrefix(k, keyChangePrefix); ok {
				ids = append(ids, id)
				if limit > 0 && len(ids) >= limit {
					return ids, nil
				}
			}
		}
		if len(keys) < listPage {
			return ids, nil
		}
	}
}

// indexedIDs is every ID in the index by day.
func (s *Store) indexedIDs() (map[string]bool, error) {
	days, err := s.days()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, d := range days {
		entries, err := s.readDay(d.Day, allShards)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out[e.ID] = true
		}
	}
	return out, nil
}
