package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"
)

// codesSentTTL lets a count vanish once nothing in it counts any more (the
// limits look back 24 hours).
const codesSentTTL = 25 * time.Hour

// codesSent is when link codes were sent, for the limits.
type codesSent struct {
	Sent []time.Time `json:"sent,omitempty"`
}

// CodesSent returns when link codes were sent for the user. Before this
// record existed the times were kept in the pending code's record
// (LinkCode.Sent); they are read from there while this one is absent, so an
// upgrade forgets no code.
func (s *Store) CodesSent(userID string) ([]time.Time, error) {
	var c *codesSent
	if err := s.kv.Get(codesSentKey(userID), &c); err != nil {
		return nil, fmt.Errorf("store: reading the link codes sent for %s: %w", userID, err)
	}
	if c != nil {
		return c.Sent, nil
	}
	old, ok, err := s.LinkCode(userID)
	if err != nil || !ok {
		return nil, err
	}
	return old.Sent, nil
}

// SaveCodesSent replaces when link codes were sent for the user; the caller
// holds the user's lock.
func (s *Store) SaveCodesSent(userID string, sent []time.Time) error {
	if _, err := s.kv.Set(codesSentKey(userID), codesSent{Sent: sent}, pluginapi.SetExpiry(codesSentTTL)); err != nil {
		return fmt.Errorf("store: saving the link codes sent for %s: %w", userID, err)
	}
	return nil
}

// UpdateZulipCodesSent changes when link codes were sent to the Zulip
// account with compare-and-set, retried: several Mattermost users may ask
// codes for the same Zulip account at once, each under their own lock, and
// every code must be counted.
func (s *Store) UpdateZulipCodesSent(zulipID int, update func(sent []time.Time) ([]time.Time, bool)) error {
	key := zulipSentKey(zulipID)
	for range shardTries {
		var old []byte
		if err := s.kv.Get(key, &old); err != nil {
			return fmt.Errorf("store: reading the link codes sent to Zulip account %d: %w", zulipID, err)
		}
		var c codesSent
		if len(old) > 0 {
			if err := json.Unmarshal(old, &c); err != nil {
				return fmt.Errorf("store: decoding the link codes sent to Zulip account %d: %w", zulipID, err)
			}
		}
		next, save := update(c.Sent)
		if !save {
			return nil
		}
		ok, err := s.kv.Set(key, codesSent{Sent: next}, pluginapi.SetAtomic(old), pluginapi.SetExpiry(codesSentTTL))
		if err != nil {
			return fmt.Errorf("store: saving the link codes sent to Zulip account %d: %w", zulipID, err)
		}
		if ok {
			return nil
		}
		time.Sleep(time.Millisecond + rand.N(4*time.Millisecond)) //nolint:gosec // a pause, not a secret
	}
	return fmt.Errorf("store: the link codes sent to Zulip account %d stayed busy for %d tries", zulipID, shardTries)
}
