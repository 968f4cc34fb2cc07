package account

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// bigMigrationHarness has n linked users at old.example (Zulip ids from
// 10) and an admin, root.
func bigMigrationHarness(t *testing.T, n int) *harness {
	t.Helper()
	users := []User{{ID: "root", Username: "root", Email: "root@example.com", EmailVerified: true}}
	var addrs []string
	var links []Link
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		users = append(users, User{ID: id, Username: id, Email: id + "@old.example", EmailVerified: true})
		addrs = append(addrs, id+"@old.example")
		links = append(links, Link{UserID: id, ZulipUserID: 10 + i})
	}
	h := newHarness(users, addrs...)
	h.mm.admins["root"] = true
	h.links = newMemLinks(links...)
	return h
}

func countReqs(reqs []string) (patches, lists int) {
	for _, r := range reqs {
		switch {
		case strings.HasPrefix(r, "patch:") && !strings.HasPrefix(r, "patch:1->"):
			patches++
		case r == "users":
			lists++
		}
	}
	return patches, lists
}

// Issue 16's budget of 1.05 Zulip requests a user: batches of 20 share one
// list of Zulip's users, read again after 100 users; every user is still
// changed once, in both systems.
func TestMigrationBatchesShareTheList(t *testing.T) {
	h := bigMigrationHarness(t, 230)
	m := startedPlan(t, h)
	h.z.reqs = nil
	steps := runAll(t, h, 30)
	if !steps[len(steps)-1].Finished || len(steps) < 230/migrationBatch {
		t.Fatalf("%d steps, last %+v", len(steps), steps[len(steps)-1])
	}
	patches, lists := countReqs(h.z.reqs)
	if patches != 230 || lists != 3 {
		t.Errorf("%d PATCHes and %d lists, want 230 and 3 (one each 100 users)", patches, lists)
	}
	got := migrationOf(t, h, m.ID)
	if got.Progress() != (MigrationProgress{Done: 230}) {
		t.Fatalf("progress %+v", got.Progress())
	}
	for _, it := range got.Items {
		if h.mm.users[it.UserID].Email != it.NewEmail || h.z.addrOf(it.ZulipUserID) != it.NewEmail {
			t.Errorf("%s: Mattermost %s, Zulip %s", it.UserID, h.mm.users[it.UserID].Email, h.z.addrOf(it.ZulipUserID))
		}
	}
}

// A list older than migrationListAge is read again: a batch after a
// pause of the job checks its users against Zulip as it is now, and a user
// whose Zulip address changed meanwhile is skipped, not overwritten.
func TestMigrationReadsAnOldListAgain(t *testing.T) {
	h := bigMigrationHarness(t, 45)
	m := startedPlan(t, h)
	h.z.reqs = nil
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	// Within the age: the next batch uses the same list.
	h.clock.advance(migrationListAge - time.Second)
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	if _, lists := countReqs(h.z.reqs); lists != 1 {
		t.Fatalf("%d lists for two batches within %s, want 1", lists, migrationListAge)
	}
	// The last user changes their Zulip address by hand; past the age the
	// list is read again and sees it.
	last := migrationOf(t, h, m.ID).Items[44]
	h.z.accounts[last.ZulipUserID].addr = "own@elsewhere.example"
	h.clock.advance(time.Second)
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	if _, lists := countReqs(h.z.reqs); lists != 2 {
		t.Fatalf("%d lists, want 2: one read again after %s", lists, migrationListAge)
	}
	got := migrationOf(t, h, m.ID)
	if it := got.Items[44]; it.Skip != MigrateSkipZulipDiffers || h.z.addrOf(it.ZulipUserID) != "own@elsewhere.example" || h.mm.users[it.UserID].Email != it.OldEmail {
		t.Errorf("the user changed in Zulip: %+v, Zulip %s, Mattermost %s", it, h.z.addrOf(it.ZulipUserID), h.mm.users[it.UserID].Email)
	}
}

// The kept list belongs to one migration, and a run that Zulip stopped
// drops it.
func TestMigrationListsKeptAndDropped(t *testing.T) {
	var c migrationLists
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	l := &zulipList{}
	if c.take("m1", now) != nil {
		t.Fatal("a list before any was kept")
	}
	c.keep("m1", now, l)
	if c.take("m1", now.Add(migrationListAge-time.Millisecond)) != l {
		t.Fatal("the kept list not given back within its age")
	}
	for name, take := range map[string]func() *zulipList{
		"another migration": func() *zulipList { return c.take("m2", now) },
		"past its age":      func() *zulipList { return c.take("m1", now.Add(migrationListAge)) },
		"a clock gone back": func() *zulipList { return c.take("m1", now.Add(-time.Second)) },
		"after 100 checks":  func() *zulipList { return after(&c, migrationListUsers, "m1", now) },
		"after it dropped":  func() *zulipList { c.keep("m1", now, l); c.drop(); return c.take("m1", now) },
	} {
		c.keep("m1", now, l)
		if take() != nil {
			t.Errorf("%s: the list was given back", name)
		}
	}
	c.keep("m1", now, l)
	if after(&c, migrationListUsers-1, "m1", now) != l {
		t.Error("not given back after 99 checks")
	}
}

func after(c *migrationLists, checks int, id string, now time.Time) *zulipList {
	for range checks {
		c.checked()
	}
	return c.take(id, now)
}

// A run that Zulip stopped (the bot's key refused; Zulip out of reach)
// forgets the list: the next run, once Zulip answers again, reads it again.
func TestMigrationStoppedRunForgetsTheList(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		blocked Code
		waiting int
	}{
		{"key refused", errUnauth, CodeZulipUnauthorized, 0},
		{"out of reach", errDown, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bigMigrationHarness(t, 45)
			h.facts = NewZulipFacts(time.Hour) // one check of the bot's permission (a PATCH of its own)
			m := startedPlan(t, h)
			h.z.reqs = nil
			h.z.patchErrs = []error{nil, nil, nil, tc.err} // the bot's check, two users, the third's
			step, f := h.service().RunMigration(context.Background())
			if f != nil || !step.ZulipOut || step.Changed != 2+tc.waiting {
				t.Fatalf("step %+v %v: want %d changed, then Zulip out", step, f, 2+tc.waiting)
			}
			if got := migrationOf(t, h, m.ID); got.Blocked != tc.blocked {
				t.Fatalf("blocked %q, want %q", got.Blocked, tc.blocked)
			}
			if _, f := h.service().RunMigration(context.Background()); f != nil {
				t.Fatal(f)
			}
			if _, lists := countReqs(h.z.reqs); lists != 2 {
				t.Errorf("%d lists, want 2: read again after Zulip stopped the run", lists)
			}
			if got := migrationOf(t, h, m.ID); got.Progress().Done != 22 || got.Progress().Waiting != tc.waiting || got.Blocked != "" {
				t.Errorf("after: %+v blocked %q", got.Progress(), got.Blocked)
			}
		})
	}
}

// The list's age counts from the request: a list Zulip took long to send
// is that much older. Still, each batch changes at least its first user,
// so a Zulip that always takes longer than the age does not stop the
// migration.
func TestMigrationListAgeCountsFromTheRequest(t *testing.T) {
	h := bigMigrationHarness(t, 45)
	m := startedPlan(t, h)
	h.z.onUsers = func() { h.clock.advance(migrationListAge + time.Second) }
	step, f := h.service().RunMigration(context.Background())
	if f != nil || step.Changed != 1 {
		t.Fatalf("step %+v %v: want the first user only", step, f)
	}
	h.z.onUsers = func() { h.clock.advance(migrationListAge / 2) }
	h.z.reqs = nil
	step, f = h.service().RunMigration(context.Background())
	if f != nil || step.Changed != migrationBatch {
		t.Fatalf("step %+v %v: want a whole batch with a list read half its age ago", step, f)
	}
	if _, lists := countReqs(h.z.reqs); lists != 1 {
		t.Errorf("%d lists, want 1", lists)
	}
	// The next batch: the list, read at the request, is now past its age.
	h.clock.advance(migrationListAge/2 + time.Millisecond)
	h.z.onUsers = nil
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	if _, lists := countReqs(h.z.reqs); lists != 2 {
		t.Errorf("%d lists, want 2: the one read %s before was past its age", lists, migrationListAge/2)
	}
	if got := migrationOf(t, h, m.ID).Progress(); got.Done != 2*migrationBatch+1 {
		t.Errorf("progress %+v", got)
	}
}
