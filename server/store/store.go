package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	ListKeys(page, count int, options ...pluginapi.ListKeysOption) ([]string, error)
	SetAtomicWithRetries(key string, valueFunc func(oldValue []byte) (newValue any, err error)) error
}

// DefaultLockTTL frees a user's lock if a server dies in the middle of a
// change. It outlives the longest change (account.MaxDuration) twice over.
const DefaultLockTTL = 3 * time.Minute

// Store keeps change records, links, link codes, usage and per-user locks.
type Store struct {
	kv      KV
	lockTTL time.Duration
	now     func() time.Time

	// The index by day: whether it is built (byday_build.go), whether
	// this process looked for an empty store, and today's shards known to
	// be marked in the list of days.
	dayIndexBuilt   atomic.Bool
	emptyChecked    atomic.Bool
	legacyMu        sync.Mutex
	legacyCheckedAt time.Time // when this node last found the index of open changes of earlier versions moved (open.go)
	buildMu         sync.Mutex
	todayMu         sync.Mutex
	today           dayShardsUsed

	recent recentBytes // what this process last wrote under keys it updates with compare-and-set
}

// New returns a Store on kv.
func New(kv KV) *Store { return NewWithClock(kv, time.Now) }

// NewWithClock returns a Store on kv that stamps records with now.
func NewWithClock(kv KV, now func() time.Time) *Store {
	return &Store{kv: kv, lockTTL: DefaultLockTTL, now: now}
}

// SaveChange writes the record with compare-and-set on its version: the
// stored record must be at c.Version (no record for version 0), and is
// replaced by c at c.Version+1, stamped UpdatedAt with the store's clock
// (c gets the new version and stamp); otherwise nothing is written and the
// error wraps account.ErrConflict. The record's entry in the index by day,
// which is also the index of open changes (open.go), is written before an
// open record is, so that an open record is always found there, and after
// a closed one is.
func (s *Store) SaveChange(_ context.Context, c *account.Change) error {
	if c.ID == "" {
		return errors.New("store: a change needs an ID")
	}
	key := changeKey(c.ID)
	next := *c
	next.Version = c.Version + 1
	next.UpdatedAt = s.now().UTC() // as it reads back: no monotonic clock
	// The index goes first for a new record and an open one. A closed
	// record's goes after it, so its save may use the bytes this process
	// wrote last: the compare-and-set checks them, and reads only when
	// another writer came in between.
	var stored storedRecord
	recalled := false
	if c.Version > 0 && !next.State.Open() {
		stored, recalled = s.recall(key, c.Version)
	}
	if !recalled {
		var err error
		if stored, err = s.storedAt(c); err != nil {
			return err
		}
	}
	old := stored.raw
	value, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("store: encoding change %s: %w", c.ID, err)
	}
	// The index first: once the record is written, SaveChange must not
	// fail for an open record the job would then carry on behind a reply
	// that said nothing changed. A new record's latest-change pointer and
	// day entry go side by side (each its own keys): the record, written
	// only once both are, is what makes the change exist. The job drops an
	// entry without a record only under the user's lock, which the
	// change's writer holds.
	var ahead []func() error
	if next.Version == 1 {
		s.noteEmptyStore()
		ahead = append(ahead, func() error {
			if _, err := s.kv.Set(userLatestKey(c.UserID), c.ID); err != nil {
				return fmt.Errorf("store: indexing change %s: %w", c.ID, err)
			}
			return nil
		})
	}
	if next.Version == 1 || next.State.Open() {
		ahead = append(ahead, func() error { return s.putDayEntry(next) })
	}
	if err := sideBySide(ahead...); err != nil {
		if next.Version == 1 {
			// Nothing of a change whose record is not written stays where
			// the job looks (an entry left by a failed removal is dropped
			// by the job, under the user's lock, for want of a record).
			s.undoDayEntry(next)
		}
		return err
	}
	ok, err := s.kv.Set(key, value, pluginapi.SetAtomic(old))
	if err == nil && !ok && recalled {
		// Another writer came in between: read, and check the version as
		// a save without remembered bytes does.
		if stored, err = s.storedAt(c); err != nil {
			return err
		}
		ok, err = s.kv.Set(key, value, pluginapi.SetAtomic(stored.raw))
	}
	if err != nil {
		return fmt.Errorf("store: saving change %s: %w", c.ID, err)
	}
	if !ok {
		return fmt.Errorf("store: change %s was saved by someone else meanwhile: %w", c.ID, account.ErrConflict)
	}
	if next.State.Open() {
		s.recent.put(key, value, s.now())
	}
	c.Version, c.UpdatedAt = next.Version, next.UpdatedAt
	if next.Version > 1 && !next.State.Open() {
		return s.putDayEntry(next)
	}
	return nil
}

// undoDayEntry takes a new change whose record was not written out of the
// index, on a best effort: it fails the save no further (a panic
// included), and an entry it leaves is dropped by the job.
func (s *Store) undoDayEntry(c account.Change) {
	defer func() { _ = recover() }()
	_ = s.dropDayEntry(c.ID, c.CreatedAt, c.Version)
}

// storedRecord is what SaveChange needs of the stored record.
type storedRecord struct {
	raw     []byte
	Version int64 `json:"version"`
}

// storedAt reads the stored record and checks that it is at c's version
// (none for version 0: a new record's ID is not in use, so that it never
// becomes anyone's latest change).
func (s *Store) storedAt(c *account.Change) (storedRecord, error) {
	var st storedRecord
	if err := s.kv.Get(changeKey(c.ID), &st.raw); err != nil {
		return st, fmt.Errorf("store: reading change %s: %w", c.ID, err)
	}
	switch {
	case len(st.raw) == 0 && c.Version == 0:
		return st, nil
	case len(st.raw) == 0:
		return st, fmt.Errorf("store: change %s is gone: %w", c.ID, account.ErrConflict)
	}
	if err := json.Unmarshal(st.raw, &st); err != nil {
		return st, fmt.Errorf("store: reading change %s: %w", c.ID, err)
	}
	if st.Version != c.Version {
		return st, fmt.Errorf("store: change %s is at version %d, not %d: %w", c.ID, st.Version, c.Version, account.ErrConflict)
	}
	return st, nil
}

// recall returns the record as this process last wrote it, when that was
// at version: what a save from there compares and sets against.
func (s *Store) recall(key string, version int64) (storedRecord, bool) {
	b, ok := s.recent.take(key, s.now())
	if !ok {
		return storedRecord{}, false
	}
	st := storedRecord{raw: b}
	if json.Unmarshal(b, &st) != nil || st.Version != version {
		return storedRecord{}, false
	}
	return st, true
}

// sideBySide runs fns at once (each a KV round trip or a few, on keys of
// their own) and returns the first error, in the order of fns.
func sideBySide(fns ...func() error) error {
	if len(fns) == 1 {
		return fns[0]()
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil { // as the caller's goroutine would: the save fails, the plugin lives
					errs[i] = fmt.Errorf("store: an index update panicked: %v", v)
				}
			}()
			errs[i] = fn()
		})
	}
	wg.Wait()
	return firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
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
// is shared). The lock holds a random token and expires by itself, so a
// crash cannot block a user forever; unlock deletes it only if it still
// holds this token (atomic compare-and-delete), so a holder whose lock
// expired never frees the next holder's.
func (s *Store) TryLock(_ context.Context, userID string) (func(), bool, error) {
	key := userLockKey(userID)
	token, err := randomToken()
	if err != nil {
		return nil, false, err
	}
	ok, err := s.kv.Set(key, token, pluginapi.SetAtomic(nil), pluginapi.SetExpiry(s.lockTTL))
	if err != nil {
		return nil, false, fmt.Errorf("store: taking the lock of %s: %w", userID, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { _, _ = s.kv.Set(key, nil, pluginapi.SetAtomic(token)) }, true, nil
}

func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: making a lock token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
