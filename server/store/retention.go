package store

import (
	"fmt"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"
)

const listPage = 1000

// PruneResult counts what PruneChanges did with the records older than the
// retention.
type PruneResult struct {
	Kept    int // still open, or ended within the retention
	Open    int // of Kept, those still open
	Deleted int
}

// PruneChanges deletes the records of changes that have ended and were last
// saved longer than retention ago, and keeps the indexes right: the change
// leaves the index by day, and a user's "latest change" pointing at it is
// removed. A change still open is never deleted, however old: it is kept
// until it ends. Only the days of the index older than the retention are
// read, and only their records.
func (s *Store) PruneChanges(retention time.Duration) (PruneResult, error) {
	var res PruneResult
	if err := s.ensureDayIndex(); err != nil {
		return res, err
	}
	cutoff := s.now().Add(-retention)
	cutDay := dayOf(cutoff)
	days, err := s.days()
	if err != nil {
		return res, err
	}
	for _, d := range days {
		if d.Day > cutDay {
			break // oldest first: the rest are younger
		}
		var emptied uint16
		for n := range dayShards {
			if d.Shards&(1<<n) == 0 {
				continue
			}
			left, err := s.pruneShard(d.Day, n, cutoff, &res)
			if err != nil {
				return res, err
			}
			if left == 0 {
				emptied |= 1 << n
			}
		}
		// The cutoff's own day may still get changes from a node whose
		// clock is behind: only days before it are unmarked.
		if emptied != 0 && d.Day < cutDay {
			if err := s.dropShards(d.Day, emptied); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// pruneShard prunes one shard of a day and returns how many entries it
// holds afterwards.
func (s *Store) pruneShard(day string, n int, cutoff time.Time, res *PruneResult) (int, error) {
	var raw []byte
	if err := s.kv.Get(dayShardKey(day, n), &raw); err != nil {
		return 0, fmt.Errorf("store: reading the index of %s: %w", day, err)
	}
	entries, err := decodeDay(raw)
	if err != nil {
		return 0, err
	}
	gone := map[string]bool{}
	fixed := map[string]dayEntry{}
	for _, e := range entries {
		if !e.CreatedAt.Before(cutoff) {
			continue
		}
		c, ok, err := s.GetChange(e.ID)
		if err != nil {
			return 0, err
		}
		if !ok {
			gone[e.ID] = true // a save cut short before its record, or deleted
			continue
		}
		if c.State != e.State {
			fixed[e.ID] = entryOf(c) // a save cut short before its new state
		}
		last := c.UpdatedAt
		if last.IsZero() {
			last = c.CreatedAt
		}
		if c.State.Open() || !last.Before(cutoff) {
			res.Kept++
			if c.State.Open() {
				res.Open++
			}
			continue
		}
		if err := s.kv.Delete(changeKey(c.ID)); err != nil {
			return 0, fmt.Errorf("store: deleting change %s: %w", c.ID, err)
		}
		res.Deleted++
		gone[c.ID] = true
		// Drop the user's pointer only if it still points here.
		if _, err := s.kv.Set(userLatestKey(c.UserID), nil, pluginapi.SetAtomic(c.ID)); err != nil {
			return 0, fmt.Errorf("store: unindexing change %s: %w", c.ID, err)
		}
	}
	if len(gone) == 0 && len(fixed) == 0 {
		return len(entries), nil
	}
	list, err := s.updateDayShard(day, n, func(list []dayEntry) ([]dayEntry, bool) {
		out := list[:0:0]
		for _, e := range list {
			if gone[e.ID] {
				continue
			}
			if f, ok := fixed[e.ID]; ok && f.Version >= e.Version {
				f.CreatedAt = e.CreatedAt // its place in the list
				e = f
			}
			out = append(out, e)
		}
		return out, true
	})
	if err != nil {
		return 0, fmt.Errorf("store: removing pruned changes from the index of %s: %w", day, err)
	}
	return len(list), nil
}
