package account

import (
	"context"
	"testing"
	"time"
)

// The README bounds the documented limitation: an address set by hand in
// Zulip after the list was read is overwritten only when set "up to 30
// seconds before their turn". The list's age is checked once, when a batch
// starts; a batch then runs up to 15 s (migrationBatchTime) and more, so a
// list read 29 s before the batch is still used 40+ s after it was read,
// and an address set by hand 40 s before the user's turn is overwritten.
func TestReview4ListNotUsedPastItsAgeWithinABatch(t *testing.T) {
	h := bigMigrationHarness(t, 45)
	h.facts = NewZulipFacts(time.Hour) // the bot's permission checked once
	m := startedPlan(t, h)
	listAt := h.clock.now()
	if _, f := h.service().RunMigration(context.Background()); f != nil { // reads the list, changes users 0..19
		t.Fatal(f)
	}
	// Right after the list was read, an admin sets user 39's address by
	// hand in Zulip.
	victim := migrationOf(t, h, m.ID).Items[39]
	h.z.accounts[victim.ZulipUserID].addr = "own@elsewhere.example"
	changedAt := h.clock.now()

	// The next batch starts within the list's age; each change takes a
	// little over half a second (the whole batch stays under 15 s).
	h.clock.advance(migrationListAge - time.Second)
	var turn time.Time
	h.z.onPatch = func() { h.clock.advance(650 * time.Millisecond); turn = h.clock.now() }
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	got := migrationOf(t, h, m.ID).Items[39]
	if h.z.addrOf(victim.ZulipUserID) != "own@elsewhere.example" {
		t.Errorf("the address set by hand %s before the user's turn (list %s old) was overwritten: item %+v, Zulip %s",
			turn.Sub(changedAt), turn.Sub(listAt), got, h.z.addrOf(victim.ZulipUserID))
	}
}
