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

// Two Binds of one Zulip account interleave: node A between its two writes,
// node B in full. B takes A's reverse key over (A's user is not bound yet,
// so it looks stale); A then sees the key is no longer its own and
// withdraws. One Zulip account is never linked to two users.
func TestBindRaceLinksOneUserOnly(t *testing.T) {
	kv := &hookKV{MemoryStore: &pluginapi.MemoryStore{}, key: bindingKey("u1")}
	s := New(kv)
	var errB error
	kv.hook = func() { errB = s.Bind(account.Binding{UserID: "u2", ZulipUserID: 10}) }

	errA := s.Bind(account.Binding{UserID: "u1", ZulipUserID: 10})

	_, ok1, _ := s.Binding("u1")
	b2, ok2, _ := s.Binding("u2")
	if !errors.Is(errA, account.ErrAlreadyBound) || ok1 {
		t.Errorf("u1: err %v, bound %v; want refused and unbound", errA, ok1)
	}
	if errB != nil || !ok2 || b2.ZulipUserID != 10 {
		t.Errorf("u2: err %v, bound %v (%d); want bound to 10", errB, ok2, b2.ZulipUserID)
	}
	var owner string
	if err := kv.Get(zulipOwnerKey(10), &owner); err != nil || owner != "u2" {
		t.Errorf("owner of Zulip account 10 = %q (%v), want u2", owner, err)
	}
}
