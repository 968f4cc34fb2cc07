package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The index of open changes is a few KV values (maps by change ID, spread
// by a hash of the ID), each changed with compare-and-set and retries, so
// the job reads a few keys instead of every record and changes made at the
// same moment rarely wait on one another.

// OpenChanges lists the index, oldest first. Entries still under the
// single key of earlier versions are moved to their shards first.
func (s *Store) OpenChanges() ([]account.OpenChange, error) {
	if err := s.moveLegacyIndex(); err != nil {
		return nil, err
	}
	var out []account.OpenChange
	for n := range openShards {
		var m map[string]account.OpenChange
		if err := s.kv.Get(openShardKey(n), &m); err != nil {
			return nil, fmt.Errorf("store: reading the open changes: %w", err)
		}
		for _, e := range m {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

// moveLegacyIndex moves the entries of the index kept under one key (before
// it was sharded) to their shards, then removes that key only if nobody
// added to it meanwhile (a node still on the old version, during an
// upgrade); otherwise it goes round again.
func (s *Store) moveLegacyIndex() error {
	for range shardTries {
		var raw []byte
		if err := s.kv.Get(keyOpenIndex, &raw); err != nil {
			return fmt.Errorf("store: reading the open changes: %w", err)
		}
		if len(raw) == 0 {
			return nil
		}
		m, err := decodeIndex(raw)
		if err != nil {
			return err
		}
		for id, e := range m {
			if err := s.updateShard(id, func(shard map[string]account.OpenChange) {
				if _, ok := shard[id]; !ok {
					shard[id] = e
				}
			}); err != nil {
				return err
			}
		}
		ok, err := s.kv.Set(keyOpenIndex, nil, pluginapi.SetAtomic(raw))
		if err != nil {
			return fmt.Errorf("store: removing the old index of open changes: %w", err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("store: the old index of open changes kept changing for %d tries", shardTries)
}

// DropOpen removes an index entry whose record does not exist.
func (s *Store) DropOpen(id string) error { return s.unindex(id) }

// index adds or updates c's entry.
func (s *Store) index(c account.Change) error {
	e := account.OpenChange{ID: c.ID, UserID: c.UserID, State: c.State, NextAttemptAt: c.NextAttemptAt, UpdatedAt: c.UpdatedAt}
	if err := s.updateShard(c.ID, func(m map[string]account.OpenChange) { m[c.ID] = e }); err != nil {
		return fmt.Errorf("store: adding change %s to the open changes: %w", c.ID, err)
	}
	return nil
}

// unindex removes a change's entry.
func (s *Store) unindex(id string) error {
	if err := s.updateShard(id, func(m map[string]account.OpenChange) { delete(m, id) }); err != nil {
		return fmt.Errorf("store: removing change %s from the open changes: %w", id, err)
	}
	return nil
}

// updateShard changes the shard of id with compare-and-set, retried with a
// short random pause: many changes made at the same moment may meet on one
// shard, and each must get its turn.
func (s *Store) updateShard(id string, change func(map[string]account.OpenChange)) error {
	key := openShardKey(openShardOf(id))
	for range shardTries {
		var old []byte
		if err := s.kv.Get(key, &old); err != nil {
			return err
		}
		m, err := decodeIndex(old)
		if err != nil {
			return err
		}
		change(m)
		var value any = m
		if len(m) == 0 {
			value = nil // an empty shard is removed
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
	return fmt.Errorf("the index key %s stayed busy for %d tries", key, shardTries)
}

// shardTries bounds the compare-and-set tries of one index update.
const shardTries = 50

func decodeIndex(b []byte) (map[string]account.OpenChange, error) {
	m := map[string]account.OpenChange{}
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("store: decoding the open changes: %w", err)
	}
	return m, nil
}
