package store

import (
	"errors"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// hookKV runs hook once, right before the first Set of key.
type hookKV struct {
	*pluginapi.MemoryStore
	key  string
	once sync.Once
	hook func()
}

func (k *hookKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if key == k.key {
		k.once.Do(k.hook)
	}
	return k.MemoryStore.Set(key, value, options...)
}

// Two AddLinks of one Zulip account interleave: node A between its two writes,
// node B in full. B takes A's reverse key over (A's user is not linked yet,
// so it looks stale); A then sees the key is no longer its own and
// withdraws. One Zulip account is never linked to two users.
func TestAddLinkRaceLinksOneUserOnly(t *testing.T) {
	kv := &hookKV{MemoryStore: &pluginapi.MemoryStore{}, key: linkKey("u1")}
	s := New(kv)
	var errB error
	kv.hook = func() { errB = s.AddLink(account.Link{UserID: "u2", ZulipUserID: 10}) }

	errA := s.AddLink(account.Link{UserID: "u1", ZulipUserID: 10})

	_, ok1, _ := s.Link("u1")
	b2, ok2, _ := s.Link("u2")
	if !errors.Is(errA, account.ErrAlreadyLinked) || ok1 {
		t.Errorf("u1: err %v, linked %v; want refused and unlinked", errA, ok1)
	}
	if errB != nil || !ok2 || b2.ZulipUserID != 10 {
		t.Errorf("u2: err %v, linked %v (%d); want linked to 10", errB, ok2, b2.ZulipUserID)
	}
	var owner string
	if err := kv.Get(zulipOwnerKey(10), &owner); err != nil || owner != "u2" {
		t.Errorf("owner of Zulip account 10 = %q (%v), want u2", owner, err)
	}
}
