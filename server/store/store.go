package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// KV is the part of the plugin KV store this package uses
// (*pluginapi.KVService and pluginapi.MemoryStore satisfy it).
type KV interface {
	Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error)
	Get(key string, o any) error
	Delete(key string) error
}

// DefaultLockTTL frees a user's lock if a server dies in the middle of a change.
const DefaultLockTTL = 2 * time.Minute

// Store keeps change records and per-user locks.
type Store struct {
	kv      KV
	lockTTL time.Duration
}

// New returns a Store on kv.
func New(kv KV) *Store { return &Store{kv: kv, lockTTL: DefaultLockTTL} }

// SaveChange writes the record and points the user's latest change at it.
func (s *Store) SaveChange(_ context.Context, c *account.Change) error {
	if c.ID == "" {
		return errors.New("store: a change needs an ID")
	}
	if _, err := s.kv.Set(changeKey(c.ID), c); err != nil {
		return fmt.Errorf("store: saving change %s: %w", c.ID, err)
	}
	if _, err := s.kv.Set(userLatestKey(c.UserID), c.ID); err != nil {
		return fmt.Errorf("store: indexing change %s: %w", c.ID, err)
	}
	return nil
}

// GetChange reads one record; ok is false when there is none.
func (s *Store) GetChange(id string) (c account.Change, ok bool, err error) {
	var out *account.Change
	if err := s.kv.Get(changeKey(id), &out); err != nil {
		return account.Change{}, false, fmt.Errorf("store: reading change %s: %w", id, err)
	}
	if out == nil {
		return account.Change{}, false, nil
	}
	return *out, true, nil
}

// LatestChange returns the user's most recent change, if any.
func (s *Store) LatestChange(userID string) (account.Change, bool, error) {
	var id string
	if err := s.kv.Get(userLatestKey(userID), &id); err != nil {
		return account.Change{}, false, fmt.Errorf("store: reading the latest change of %s: %w", userID, err)
	}
	if id == "" {
		return account.Change{}, false, nil
	}
	return s.GetChange(id)
}

// TryLock takes the user's lock for one change, cluster-wide (the KV store
// is shared). It expires by itself so a crash cannot block a user forever.
func (s *Store) TryLock(_ context.Context, userID string) (func(), bool, error) {
	key := userLockKey(userID)
	ok, err := s.kv.Set(key, time.Now().UTC().Format(time.RFC3339), pluginapi.SetAtomic(nil), pluginapi.SetExpiry(s.lockTTL))
	if err != nil {
		return nil, false, fmt.Errorf("store: taking the lock of %s: %w", userID, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { _ = s.kv.Delete(key) }, true, nil
}
