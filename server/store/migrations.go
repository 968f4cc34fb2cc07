package store

import (
	"fmt"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// migrationChunk is how many users of a migration one KV value holds, so
// that a plan of tens of thousands of users is not one huge value.
const migrationChunk = 100

// migrationHead is a migration without its users, and how many chunks
// hold them.
type migrationHead struct {
	account.Migration
	Chunks int `json:"chunks"`
}

// SaveMigration stores m: its users in chunks first, then the head that
// names them, so that a reader never finds a head without its users.
func (s *Store) SaveMigration(m account.Migration) error {
	if _, err := s.kv.Set(migrationZulipOnlyKey(m.ID), m.ZulipOnly); err != nil {
		return fmt.Errorf("store: saving migration %s, its Zulip accounts: %w", m.ID, err)
	}
	head := migrationHead{Migration: m}
	head.Items, head.ZulipOnly = nil, nil
	for start := 0; start < len(m.Items); start += migrationChunk {
		end := min(start+migrationChunk, len(m.Items))
		if _, err := s.kv.Set(migrationItemsKey(m.ID, head.Chunks), m.Items[start:end]); err != nil {
			return fmt.Errorf("store: saving migration %s, users %d to %d: %w", m.ID, start, end, err)
		}
		head.Chunks++
	}
	if _, err := s.kv.Set(migrationKey(m.ID), head); err != nil {
		return fmt.Errorf("store: saving migration %s: %w", m.ID, err)
	}
	if m.State != account.MigrationPlanned {
		return nil
	}
	if _, err := s.kv.Set(keyLatestMigration, m.ID); err != nil {
		return fmt.Errorf("store: noting migration %s as the latest: %w", m.ID, err)
	}
	return nil
}

// ActiveMigration returns the ID of the migration under way.
func (s *Store) ActiveMigration() (string, bool, error) {
	var id string
	if err := s.kv.Get(keyActiveMigration, &id); err != nil {
		return "", false, fmt.Errorf("store: reading the migration under way: %w", err)
	}
	return id, id != "", nil
}

// ClaimActiveMigration makes id the migration under way if none is,
// atomically (compare-and-set from nothing).
func (s *Store) ClaimActiveMigration(id string) (bool, error) {
	ok, err := s.kv.Set(keyActiveMigration, id, pluginapi.SetAtomic(nil))
	if err != nil {
		return false, fmt.Errorf("store: claiming the migration under way: %w", err)
	}
	if !ok {
		var cur string
		if err := s.kv.Get(keyActiveMigration, &cur); err != nil {
			return false, fmt.Errorf("store: reading the migration under way: %w", err)
		}
		return cur == id, nil
	}
	return true, nil
}

// ReleaseActiveMigration clears the migration under way if it is id
// (compare-and-set: never another migration's).
func (s *Store) ReleaseActiveMigration(id string) error {
	if _, err := s.kv.Set(keyActiveMigration, nil, pluginapi.SetAtomic(id)); err != nil {
		return fmt.Errorf("store: releasing the migration under way: %w", err)
	}
	return nil
}

// LatestMigration returns the ID of the migration saved last.
func (s *Store) LatestMigration() (string, bool, error) {
	var id string
	if err := s.kv.Get(keyLatestMigration, &id); err != nil {
		return "", false, fmt.Errorf("store: reading the latest migration: %w", err)
	}
	return id, id != "", nil
}

// SaveMigrationItems stores m's head and only the chunks holding the users
// at indexes: a user's turn rewrites one chunk, not the whole migration.
// The users' number never changes after the plan, so the head's chunk
// count holds.
func (s *Store) SaveMigrationItems(m account.Migration, indexes ...int) error {
	written := map[int]bool{}
	for _, i := range indexes {
		n := i / migrationChunk
		if written[n] || i < 0 || i >= len(m.Items) {
			continue
		}
		written[n] = true
		end := min((n+1)*migrationChunk, len(m.Items))
		if _, err := s.kv.Set(migrationItemsKey(m.ID, n), m.Items[n*migrationChunk:end]); err != nil {
			return fmt.Errorf("store: saving migration %s, chunk %d: %w", m.ID, n, err)
		}
	}
	head := migrationHead{Migration: m, Chunks: (len(m.Items) + migrationChunk - 1) / migrationChunk}
	head.Items, head.ZulipOnly = nil, nil
	if _, err := s.kv.Set(migrationKey(m.ID), head); err != nil {
		return fmt.Errorf("store: saving migration %s: %w", m.ID, err)
	}
	return nil
}

// Migration returns the migration with id and all its users; ok is false
// when there is none.
func (s *Store) Migration(id string) (account.Migration, bool, error) {
	var head *migrationHead
	if err := s.kv.Get(migrationKey(id), &head); err != nil {
		return account.Migration{}, false, fmt.Errorf("store: reading migration %s: %w", id, err)
	}
	if head == nil {
		return account.Migration{}, false, nil
	}
	m := head.Migration
	if err := s.kv.Get(migrationZulipOnlyKey(id), &m.ZulipOnly); err != nil {
		return account.Migration{}, false, fmt.Errorf("store: reading migration %s, its Zulip accounts: %w", id, err)
	}
	for n := 0; n < head.Chunks; n++ {
		var items []account.MigrationItem
		if err := s.kv.Get(migrationItemsKey(id, n), &items); err != nil {
			return account.Migration{}, false, fmt.Errorf("store: reading migration %s, chunk %d: %w", id, n, err)
		}
		m.Items = append(m.Items, items...)
	}
	return m, true, nil
}
