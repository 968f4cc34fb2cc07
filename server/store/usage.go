package store

import (
	"fmt"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// usageTTL lets a user's usage vanish once nothing in it counts any more.
const usageTTL = 25 * time.Hour

// Usage returns what counts against the user's limits.
func (s *Store) Usage(userID string) (account.UserUsage, error) {
	var u account.UserUsage
	if err := s.kv.Get(usageKey(userID), &u); err != nil {
		return account.UserUsage{}, fmt.Errorf("store: reading the usage of %s: %w", userID, err)
	}
	return u, nil
}

// SaveUsage replaces the user's usage; the caller holds the user's lock.
func (s *Store) SaveUsage(userID string, u account.UserUsage) error {
	if _, err := s.kv.Set(usageKey(userID), u, pluginapi.SetExpiry(usageTTL)); err != nil {
		return fmt.Errorf("store: saving the usage of %s: %w", userID, err)
	}
	return nil
}

// linkCodeTTL keeps a pending code (and the count of codes sent) for a day.
const linkCodeTTL = 24 * time.Hour

// LinkCode returns the user's pending link code; ok is false when none.
func (s *Store) LinkCode(userID string) (account.LinkCode, bool, error) {
	var c *account.LinkCode
	if err := s.kv.Get(linkCodeKey(userID), &c); err != nil {
		return account.LinkCode{}, false, fmt.Errorf("store: reading the link code of %s: %w", userID, err)
	}
	if c == nil {
		return account.LinkCode{}, false, nil
	}
	return *c, true, nil
}

// SaveLinkCode replaces the user's pending link code.
func (s *Store) SaveLinkCode(userID string, c account.LinkCode) error {
	if _, err := s.kv.Set(linkCodeKey(userID), c, pluginapi.SetExpiry(linkCodeTTL)); err != nil {
		return fmt.Errorf("store: saving the link code of %s: %w", userID, err)
	}
	return nil
}

// DeleteLinkCode removes the user's pending link code.
func (s *Store) DeleteLinkCode(userID string) error {
	if err := s.kv.Delete(linkCodeKey(userID)); err != nil {
		return fmt.Errorf("store: deleting the link code of %s: %w", userID, err)
	}
	return nil
}
