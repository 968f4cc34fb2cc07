package store

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The index of open changes is one KV value (a map by change ID), changed
// with compare-and-set and retries, so the job reads one key instead of
// every record.

// OpenChanges lists the index, oldest first.
func (s *Store) OpenChanges() ([]account.OpenChange, error) {
	m, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	out := make([]account.OpenChange, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

func (s *Store) readIndex() (map[string]account.OpenChange, error) {
	var m map[string]account.OpenChange
	if err := s.kv.Get(keyOpenIndex, &m); err != nil {
		return nil, fmt.Errorf("store: reading the open changes: %w", err)
	}
	return m, nil
}

// DropOpen removes an index entry whose record does not exist.
func (s *Store) DropOpen(id string) error { return s.unindex(id) }

// index adds or updates c's entry.
func (s *Store) index(c account.Change) error {
	e := account.OpenChange{ID: c.ID, UserID: c.UserID, State: c.State, NextAttemptAt: c.NextAttemptAt, UpdatedAt: c.UpdatedAt}
	err := s.kv.SetAtomicWithRetries(keyOpenIndex, func(old []byte) (any, error) {
		m, err := decodeIndex(old)
		if err != nil {
			return nil, err
		}
		m[c.ID] = e
		return m, nil
	})
	if err != nil {
		return fmt.Errorf("store: adding change %s to the open changes: %w", c.ID, err)
	}
	return nil
}

// unindex removes a change's entry.
func (s *Store) unindex(id string) error {
	err := s.kv.SetAtomicWithRetries(keyOpenIndex, func(old []byte) (any, error) {
		m, err := decodeIndex(old)
		if err != nil {
			return nil, err
		}
		delete(m, id)
		return m, nil
	})
	if err != nil {
		return fmt.Errorf("store: removing change %s from the open changes: %w", id, err)
	}
	return nil
}

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
