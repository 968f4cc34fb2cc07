package store

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// A migration of thousands of users is kept in chunks and read back whole.
func TestMigrationRoundTrip(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	s := New(mem)
	m := account.Migration{ID: "0123456789abcdef01234567", From: "old.example", To: "new.example", State: account.MigrationPlanned,
		CreatedBy: "root", CreatedAt: time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC), WouldLink: 2, Verification: true, RatePerMinute: 200,
		Estimate: time.Minute, ZulipOnly: []account.ZulipOnlyAccount{{ZulipUserID: 7, Email: "z@old.example"}}}
	for i := range 2500 {
		it := account.MigrationItem{UserID: fmt.Sprintf("u%d", i), OldEmail: fmt.Sprintf("u%d@old.example", i), NewEmail: fmt.Sprintf("u%d@new.example", i), ZulipUserID: i}
		if i%7 == 0 {
			it.Skip = account.MigrateSkipNotLinked
		}
		m.Items = append(m.Items, it)
	}
	if err := s.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Migration(m.ID)
	if err != nil || !ok || !reflect.DeepEqual(got, m) {
		t.Fatalf("read back %v %v: %d users, want %d", ok, err, len(got.Items), len(m.Items))
	}
	keys, err := mem.ListKeys(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"v1_migration_" + m.ID}
	for n := range 25 { // 2,500 users in chunks of 100
		want = append(want, fmt.Sprintf("v1_migration_%s_items_%d", m.ID, n))
	}
	want = append(want, "v1_migration_"+m.ID+"_zulip_only", "v1_migration_latest")
	slices.Sort(want)
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if _, ok, err := s.Migration("ffffffffffffffffffffffff"); ok || err != nil {
		t.Errorf("a missing migration: %v %v", ok, err)
	}
}

// Removing a link is remembered, so that the scan does not link the user
// again by itself.
func TestRemoveLinkIsRemembered(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	if u, err := s.Unlinked("u1"); u || err != nil {
		t.Fatalf("before: %v %v", u, err)
	}
	if err := s.AddLink(account.Link{UserID: "u1", ZulipUserID: 10}); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Unlinked("u1"); u {
		t.Error("linked counts as unlinked")
	}
	if _, ok, err := s.RemoveLink("u1"); !ok || err != nil {
		t.Fatalf("remove: %v %v", ok, err)
	}
	if u, err := s.Unlinked("u1"); !u || err != nil {
		t.Errorf("after the unlink: %v %v", u, err)
	}
	if u, _ := s.Unlinked("u2"); u {
		t.Error("another user counts as unlinked")
	}
}

// A user's turn rewrites the head and that user's chunk only; the latest
// migration is the one saved last.
func TestSaveMigrationItemsWritesOneChunk(t *testing.T) {
	mem := &pluginapi.MemoryStore{}
	s := New(mem)
	m := account.Migration{ID: "0123456789abcdef01234567", State: account.MigrationPlanned}
	for i := range 1200 {
		m.Items = append(m.Items, account.MigrationItem{UserID: fmt.Sprintf("u%d", i)})
	}
	if err := s.SaveMigration(m); err != nil {
		t.Fatal(err)
	}
	m.State = account.MigrationRunning
	m.Items[700].Status, m.Items[1].Status, m.State = account.ItemDone, account.ItemDone, account.MigrationPaused
	if err := s.SaveMigrationItems(m, 700); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Migration(m.ID)
	if got.Items[700].Status != account.ItemDone || got.Items[1].Status != account.ItemPending || got.State != account.MigrationPaused || len(got.Items) != 1200 {
		t.Errorf("user 700 %q, user 1 %q (its chunk not written), state %s, %d users", got.Items[700].Status, got.Items[1].Status, got.State, len(got.Items))
	}
	if id, ok, err := s.LatestMigration(); id != m.ID || !ok || err != nil {
		t.Errorf("latest %q %v %v", id, ok, err)
	}
}
