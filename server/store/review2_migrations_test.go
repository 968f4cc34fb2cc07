package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// review2CountingKV counts what Set writes.
type review2CountingKV struct {
	*pluginapi.MemoryStore
	keys  []string
	bytes int
}

func (k *review2CountingKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	b, _ := json.Marshal(value)
	k.keys = append(k.keys, key)
	k.bytes += len(b)
	return k.MemoryStore.Set(key, value, options...)
}

// A user's turn in a migration of 10,000 users writes its chunk and the
// head, not the whole migration, and the head does not grow with the plan.
func TestReview2OneTurnWritesLittle(t *testing.T) {
	kv := &review2CountingKV{MemoryStore: &pluginapi.MemoryStore{}}
	s := New(kv)
	m := account.Migration{ID: "0123456789abcdef01234567", From: "old.example", To: "new.example", State: account.MigrationRunning}
	for i := range 10000 {
		m.Items = append(m.Items, account.MigrationItem{UserID: fmt.Sprintf("%026d", i), Username: fmt.Sprintf("user%d", i),
			OldEmail: fmt.Sprintf("user%d@old.example", i), NewEmail: fmt.Sprintf("user%d@new.example", i), ZulipUserID: i})
	}
	for i := range 3000 { // Zulip accounts at the old domain that no Mattermost user has
		m.ZulipOnly = append(m.ZulipOnly, account.ZulipOnlyAccount{ZulipUserID: 100000 + i, Email: fmt.Sprintf("z%d@old.example", i)})
	}
	if err := s.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	whole := kv.bytes
	kv.keys, kv.bytes = nil, 0
	m.Items[4321].Status, m.Items[4321].ChangeID = account.ItemStarted, "0123456789abcdef0123abcd"
	if err := s.SaveMigrationItems(m, 4321); err != nil {
		t.Fatal(err)
	}
	t.Logf("the whole migration: %d bytes; one turn: %d bytes in %v", whole, kv.bytes, kv.keys)
	if len(kv.keys) != 2 {
		t.Errorf("one turn wrote %v", kv.keys)
	}
	if kv.bytes > 100_000 {
		t.Errorf("one turn wrote %d bytes (the whole migration is %d)", kv.bytes, whole)
	}
}
