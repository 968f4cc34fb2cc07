package store

import (
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// racingLegacyKV simulates a node still on the previous version (rolling
// upgrade) adding an entry to the single-key index between the new node's
// read of that key and its removal (found in review).
type racingLegacyKV struct {
	pluginapi.MemoryStore
	raced bool
}

func (k *racingLegacyKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == keyOpenIndex && value == nil && !k.raced {
		k.raced = true
		var m map[string]account.OpenChange
		_ = k.MemoryStore.Get(keyOpenIndex, &m)
		m["fromOldNode"] = account.OpenChange{ID: "fromOldNode", UserID: "u9", State: account.StateMattermostChanged, UpdatedAt: time.Now()}
		if _, err := k.MemoryStore.Set(keyOpenIndex, m); err != nil {
			return false, err
		}
	}
	return k.MemoryStore.Set(key, value, options...)
}

func TestLegacyIndexMoveKeepsAConcurrentEntry(t *testing.T) {
	kv := &racingLegacyKV{}
	s := New(kv)
	legacy := map[string]account.OpenChange{"old1": {ID: "old1", UserID: "u1", State: account.StateWaitingForZulip}}
	if _, err := kv.Set(keyOpenIndex, legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenChanges(); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenChanges()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range open {
		found = found || e.ID == "fromOldNode"
	}
	if !found {
		t.Fatalf("entry written to the old key during the move is lost: open = %v", open)
	}
}
