package store

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
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

// ListChanges returns one page of the change records, newest first, only
// those in state when it is not empty. It reads every record: for admins'
// occasional use.
func (s *Store) ListChanges(state account.State, page, perPage int) ([]account.Change, error) {
	var all []account.Change
	for p := 0; ; p++ {
		keys, err := s.kv.ListKeys(p, listPage, pluginapi.WithPrefix(keyChangePrefix))
		if err != nil {
			return nil, fmt.Errorf("store: listing change records: %w", err)
		}
		for _, k := range keys {
			c, ok, err := s.GetChange(strings.TrimPrefix(k, keyChangePrefix))
			if err != nil {
				return nil, err
			}
			if ok && (state == "" || c.State == state) {
				all = append(all, c)
			}
		}
		if len(keys) < listPage {
			break
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	start := min(page*perPage, len(all))
	end := min(start+perPage, len(all))
	return all[start:end], nil
}
