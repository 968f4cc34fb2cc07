package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"
)

// DefaultRetention is how long change records are kept.
const DefaultRetention = 90 * 24 * time.Hour

const listPage = 1000

// PruneResult counts what PruneChanges did.
type PruneResult struct {
	Kept, Deleted int
}

// PruneChanges deletes change records last updated longer than retention
// ago and keeps
// the per-user index right: a user's "latest change" pointing at a deleted
// record is removed. Records of changes still open are kept until they are
// older still, twice the retention.
func (s *Store) PruneChanges(retention time.Duration) (PruneResult, error) {
	cutoff := s.now().Add(-retention)
	var res PruneResult
	var ids []string
	for page := 0; ; page++ {
		keys, err := s.kv.ListKeys(page, listPage, pluginapi.WithPrefix(keyChangePrefix))
		if err != nil {
			return res, fmt.Errorf("store: listing change records: %w", err)
		}
		for _, k := range keys {
			ids = append(ids, strings.TrimPrefix(k, keyChangePrefix))
		}
		if len(keys) < listPage {
			break
		}
	}
	// Deleting while paging would shift the pages: list first, then prune.
	for _, id := range ids {
		c, ok, err := s.GetChange(id)
		if err != nil {
			return res, err
		}
		if !ok {
			continue
		}
		last := c.UpdatedAt
		if last.IsZero() {
			last = c.CreatedAt
		}
		limit := cutoff
		if c.State.Open() {
			// The job closes open changes within days; keep one it has
			// not reached much longer rather than lose it.
			limit = cutoff.Add(-retention)
		}
		if !last.Before(limit) {
			res.Kept++
			continue
		}
		if err := s.kv.Delete(changeKey(id)); err != nil {
			return res, fmt.Errorf("store: deleting change %s: %w", id, err)
		}
		res.Deleted++
		// Drop the index entry only if it still points here.
		if _, err := s.kv.Set(userLatestKey(c.UserID), nil, pluginapi.SetAtomic(id)); err != nil {
			return res, fmt.Errorf("store: unindexing change %s: %w", id, err)
		}
	}
	return res, nil
}
