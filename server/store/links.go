package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Link returns the user's link; ok is false when there is none.
// Its bytes are remembered for a while: a change that reads the link
// before it moves the agreed address sets that without reading again.
func (s *Store) Link(userID string) (account.Link, bool, error) {
	key := linkKey(userID)
	var raw []byte
	if err := s.kv.Get(key, &raw); err != nil {
		return account.Link{}, false, fmt.Errorf("store: reading the link of %s: %w", userID, err)
	}
	if len(raw) == 0 {
		return account.Link{}, false, nil
	}
	var b *account.Link
	if err := json.Unmarshal(raw, &b); err != nil {
		return account.Link{}, false, fmt.Errorf("store: reading the link of %s: %w", userID, err)
	}
	if b == nil {
		return account.Link{}, false, nil
	}
	s.recent.put(key, raw, s.now())
	return *b, true, nil
}

// AddLink stores b under both keys, each written only if absent, so two nodes
// or two requests can never link one Zulip account to two users or one user
// to two accounts. A reverse key left behind by an interrupted RemoveLink (its
// user no longer linked to that account) is taken over.
func (s *Store) AddLink(b account.Link) error {
	if b.UserID == "" || b.ZulipUserID <= 0 {
		return errors.New("store: a link needs a user and a Zulip account")
	}
	zkey := zulipOwnerKey(b.ZulipUserID)
	ok, err := s.kv.Set(zkey, b.UserID, pluginapi.SetAtomic(nil))
	if err != nil {
		return fmt.Errorf("store: link Zulip account %d: %w", b.ZulipUserID, err)
	}
	if !ok {
		if ok, err = s.takeOverStaleOwner(b); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: Zulip account %d: %w", b.ZulipUserID, account.ErrAlreadyLinked)
		}
	}
	ok, err = s.kv.Set(linkKey(b.UserID), b, pluginapi.SetAtomic(nil))
	if err == nil && !ok {
		err = fmt.Errorf("store: user %s: %w", b.UserID, account.ErrAlreadyLinked)
	}
	if err != nil {
		// Give the Zulip account back, but only if it is still ours.
		_, _ = s.kv.Set(zkey, nil, pluginapi.SetAtomic(b.UserID))
		if errors.Is(err, account.ErrAlreadyLinked) {
			return err
		}
		return fmt.Errorf("store: link user %s: %w", b.UserID, err)
	}
	// Between our two writes another AddLink may have taken the reverse key
	// over (our user was not linked yet, so it looked stale). Once our
	// forward key is written nobody can take it any more; if it is no
	// longer ours, withdraw.
	var owner string
	if err := s.kv.Get(zkey, &owner); err != nil {
		return fmt.Errorf("store: checking the owner of Zulip account %d: %w", b.ZulipUserID, err)
	}
	if owner != b.UserID {
		_, _ = s.kv.Set(linkKey(b.UserID), nil, pluginapi.SetAtomic(b))
		return fmt.Errorf("store: Zulip account %d was linked to another user meanwhile: %w", b.ZulipUserID, account.ErrAlreadyLinked)
	}
	return nil
}

// takeOverStaleOwner claims a reverse key whose user is not linked to that
// Zulip account any more.
func (s *Store) takeOverStaleOwner(b account.Link) (bool, error) {
	zkey := zulipOwnerKey(b.ZulipUserID)
	var owner string
	if err := s.kv.Get(zkey, &owner); err != nil {
		return false, fmt.Errorf("store: reading the owner of Zulip account %d: %w", b.ZulipUserID, err)
	}
	if owner == "" {
		ok, err := s.kv.Set(zkey, b.UserID, pluginapi.SetAtomic(nil))
		return ok, err
	}
	if owner == b.UserID {
		return true, nil
	}
	ob, linked, err := s.Link(owner)
	if err != nil {
		return false, err
	}
	if linked && ob.ZulipUserID == b.ZulipUserID {
		return false, nil
	}
	ok, err := s.kv.Set(zkey, b.UserID, pluginapi.SetAtomic(owner))
	if err != nil {
		return false, fmt.Errorf("store: taking over Zulip account %d: %w", b.ZulipUserID, err)
	}
	return ok, nil
}

// RemoveLink removes the user's link, then the reverse key if it is still
// this user's.
func (s *Store) RemoveLink(userID string) (account.Link, bool, error) {
	b, ok, err := s.Link(userID)
	if err != nil || !ok {
		return b, ok, err
	}
	// The user chose to be unlinked: the scan does not link them again
	// (written first, so that a failure leaves the link rather than a
	// user the scan would link back).
	if _, err := s.kv.Set(unlinkedKey(userID), b.ZulipUserID); err != nil {
		return b, false, fmt.Errorf("store: noting the unlink of %s: %w", userID, err)
	}
	if err := s.kv.Delete(linkKey(userID)); err != nil {
		return b, false, fmt.Errorf("store: removing the link of %s: %w", userID, err)
	}
	// Should this fail, the stale reverse key is harmless: AddLink takes it over.
	_, _ = s.kv.Set(zulipOwnerKey(b.ZulipUserID), nil, pluginapi.SetAtomic(userID))
	return b, true, nil
}

// SetAgreedEmail sets the agreed address of userID's link, if the link
// still goes to zulipUserID, with compare-and-set (another writer may
// replace the link meanwhile).
func (s *Store) SetAgreedEmail(userID string, zulipUserID int, email string) (string, bool, error) {
	key := linkKey(userID)
	var last string // what the last read said was agreed
	remembered, recalled := s.recent.take(key, s.now())
	for range shardTries {
		old := remembered
		if !recalled {
			if err := s.kv.Get(key, &old); err != nil {
				return "", false, fmt.Errorf("store: reading the link of %s: %w", userID, err)
			}
		}
		if len(old) == 0 {
			return "", false, nil
		}
		var l account.Link
		if err := json.Unmarshal(old, &l); err != nil {
			return "", false, fmt.Errorf("store: decoding the link of %s: %w", userID, err)
		}
		before := l.AgreedEmail
		if recalled && (l.ZulipUserID != zulipUserID || before == email) {
			// Remembered bytes only ever go to a compare-and-set: what
			// needs no write is read.
			recalled = false
			continue
		}
		if l.ZulipUserID != zulipUserID {
			return "", false, nil
		}
		if before == email {
			return before, true, nil
		}
		l.AgreedEmail = email
		value, err := json.Marshal(l)
		if err != nil {
			return before, true, fmt.Errorf("store: encoding the link of %s: %w", userID, err)
		}
		ok, err := s.kv.Set(key, value, pluginapi.SetAtomic(old))
		if err != nil {
			return before, true, fmt.Errorf("store: saving the link of %s: %w", userID, err)
		}
		if ok {
			s.recent.put(key, value, s.now())
			return before, true, nil
		}
		if recalled {
			recalled = false // another writer came in between: read
			continue
		}
		last = before
	}
	return last, true, fmt.Errorf("store: the link of %s stayed busy for %d tries", userID, shardTries)
}

// LinkedUser returns the Mattermost user linked to a Zulip account, by the
// reverse key; a reverse key left behind by an interrupted RemoveLink (its
// user no longer linked to that account) does not count.
func (s *Store) LinkedUser(zulipUserID int) (string, bool, error) {
	l, ok, err := s.LinkOfZulip(zulipUserID)
	return l.UserID, ok, err
}

// LinkOfZulip returns the link of a Zulip account, by the reverse key, as
// LinkedUser finds it.
func (s *Store) LinkOfZulip(zulipUserID int) (account.Link, bool, error) {
	var userID string
	if err := s.kv.Get(zulipOwnerKey(zulipUserID), &userID); err != nil {
		return account.Link{}, false, fmt.Errorf("store: reading the owner of Zulip account %d: %w", zulipUserID, err)
	}
	if userID == "" {
		return account.Link{}, false, nil
	}
	l, ok, err := s.Link(userID)
	if err != nil || !ok || l.ZulipUserID != zulipUserID {
		return account.Link{}, false, err
	}
	return l, true, nil
}

// Unlinked tells whether the user ever removed a link (/account unlink).
func (s *Store) Unlinked(userID string) (bool, error) {
	var zulipID *int
	if err := s.kv.Get(unlinkedKey(userID), &zulipID); err != nil {
		return false, fmt.Errorf("store: reading whether %s unlinked: %w", userID, err)
	}
	return zulipID != nil, nil
}
