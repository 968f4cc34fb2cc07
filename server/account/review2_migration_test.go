package account

import (
	"context"
	"errors"
	"testing"
)

// Review 2: the domain migration's run and control.

func review2By(m Migration) map[string]MigrationItem {
	by := map[string]MigrationItem{}
	for _, it := range m.Items {
		by[it.UserID] = it
	}
	return by
}

// review2Run runs the job n times, without failing on a run's failure.
func review2Run(h *harness, n int) {
	for range n {
		_, _ = h.service().RunMigration(context.Background())
	}
}

// review2HookMM calls hook at the first page a plan reads.
type review2HookMM struct {
	*fakeMattermost
	hook func()
}

func (m *review2HookMM) ListUsers(page, perPage int) ([]User, error) {
	if page == 0 && m.hook != nil {
		hook := m.hook
		m.hook = nil
		hook()
	}
	return m.fakeMattermost.ListUsers(page, perPage)
}

// The job only ever carries the latest migration on, and every save of a
// plan moves "latest". PlanMigration checks that no migration is under way
// (noMigrationUnderWay) before computing the plan, without any lock, and
// saves it after reading every user: a start of the latest plan in between
// (its Start button, another admin) leaves that migration running forever,
// with nobody changed any more.
func TestReview2PlanningWhileTheLatestStartsStallsIt(t *testing.T) {
	h := planHarness(t)
	a, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	d := h.deps(h.z)
	d.Mattermost = &review2HookMM{fakeMattermost: h.mm, hook: func() {
		// While the second plan reads Mattermost, the first one is started.
		if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", a.ID, MigrationStart); f != nil {
			t.Fatal(f)
		}
	}}
	// The second plan sees the start before it is saved: refused.
	if _, f := newTestService(d, withNow(h)).PlanMigration(context.Background(), "root", "s-root", "sub.old.example", "new.example"); f == nil || f.Code != CodeMigrationState {
		t.Fatalf("a plan saved while a migration started: %v", f)
	}
	review2Run(h, 10)
	got := migrationOf(t, h, a.ID)
	if got.State != MigrationDone || got.Progress().Done != 3 {
		t.Errorf("the migration started while another was planned: %s, %+v (Mattermost updates %v)", got.State, got.Progress(), h.mm.updates)
	}
}

// The same through a move on an older migration by its id: cancelling a
// stale plan (POST /migrations/{id}/cancel) makes it "latest", and the
// running migration stops for good.
func TestReview2CancellingAnOldPlanStallsTheRunningOne(t *testing.T) {
	h := planHarness(t)
	old, f := h.service().PlanMigration(context.Background(), "root", "s-root", "sub.old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	running := startedPlan(t, h)
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", old.ID, MigrationCancel); f != nil {
		t.Fatal(f)
	}
	review2Run(h, 10)
	got := migrationOf(t, h, running.ID)
	if got.State != MigrationDone || got.Progress().Done != 3 {
		t.Errorf("the running migration after an old plan was cancelled: %s, %+v", got.State, got.Progress())
	}
}

// Another system admin starts the plan (its Start route, or /account
// migrate start): the reply tells them "You get a direct message each
// tenth of the way and at the end", but every notice goes to the admin who
// planned it, and every change is recorded as asked by the planner.
func TestReview2TheStarterIsToldAndRecorded(t *testing.T) {
	h := planHarness(t)
	h.mm.add(User{ID: "root2", Username: "root2", Email: "root2@example.com", EmailVerified: true})
	h.mm.admins["root2"] = true
	m, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root2", "s-root2", m.ID, MigrationStart); f != nil {
		t.Fatal(f)
	}
	runAll(t, h, 10)
	var toStarter, toPlanner int
	for _, n := range h.notes.sent {
		if n.n.Kind != NoticeMigration {
			continue
		}
		switch n.userID {
		case "root2":
			toStarter++
		case "root":
			toPlanner++
		}
	}
	if toStarter == 0 {
		t.Errorf("the admin who started the migration got no progress notice (%d went to the planner)", toPlanner)
	}
	for _, it := range migrationOf(t, h, m.ID).Items {
		if it.ChangeID == "" {
			continue
		}
		if rec := stored(t, h, it.ChangeID); rec.RequestedBy != "root2" {
			t.Errorf("%s: the change is recorded as asked by %q, the migration was started by root2", it.UserID, rec.RequestedBy)
			break
		}
	}
}

// The link is read before the user's lock is taken (migrationTarget), and
// not again under it: an /account unlink (and a link to another Zulip
// account) that ends between the two has the migration change the Zulip
// account the user just unlinked.
func TestReview2LinkChangedJustBeforeTheLock(t *testing.T) {
	h := planHarness(t)
	startedPlan(t, h)
	h.z.accounts[30] = &zAccount{id: 30, addr: "ok.real@example.org"}
	relinked := false
	h.locker.onLock = func() {
		if h.locker.held["ok"] && !relinked {
			relinked = true
			if _, _, err := h.links.RemoveLink("ok"); err != nil {
				t.Fatal(err)
			}
			if err := h.links.AddLink(Link{UserID: "ok", ZulipUserID: 30}); err != nil {
				t.Fatal(err)
			}
		}
	}
	runAll(t, h, 10)
	if got := h.z.addrOf(10); got != "ok@old.example" {
		t.Errorf("Zulip account 10, unlinked by ok before the change, was changed to %s", got)
	}
}

// A cause only an admin can fix (here the bot lost the permission to change
// emails) fails every user of the migration one after the other, and the
// migration ends "done"; a failed user is never tried again.
func TestReview2BotLosingThePermissionDoesNotFailEveryone(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.patchErrs = []error{errNoPerm, errNoPerm, errNoPerm, errNoPerm, errNoPerm, errNoPerm}
	review2Run(h, 3)
	got := migrationOf(t, h, m.ID)
	told := 0
	for _, n := range h.notes.sent {
		if n.n.Kind == NoticeMigration && n.n.Migration.Blocked == CodeZulipNoPermission {
			told++
		}
	}
	if got.State != MigrationRunning || got.Blocked != CodeZulipNoPermission || told != 1 || len(h.mm.updates) != 0 {
		t.Errorf("while the bot lacks the permission: %s, blocked %q, told %d, updates %v", got.State, got.Blocked, told, h.mm.updates)
	}
	// The permission back (the probe's errors used up): everyone is changed.
	review2Run(h, 10)
	got = migrationOf(t, h, m.ID)
	if p := got.Progress(); p.Failed > 0 || got.State != MigrationDone || p.Done != 3 || got.Blocked != "" {
		t.Errorf("the bot lost its permission: %s, %+v (codes %v)", got.State, p, func() []Code {
			var c []Code
			for _, it := range got.Items {
				if it.Status == ItemFailed {
					c = append(c, it.Code)
				}
			}
			return c
		}())
	}
}

// Zulip's budget already down to the reserve: the batch still reads the
// whole user list first (a large request, every run), from the reserve
// left to users' own changes.
func TestReview2NoListWhenTheBudgetIsAtTheReserve(t *testing.T) {
	h := planHarness(t)
	startedPlan(t, h)
	h.z.reqs = nil
	b := &budgetZulip{fakeZulip: h.z, remaining: migrationReserve}
	svc := newTestService(h.deps(b), withNow(h))
	for range 3 {
		if _, f := svc.RunMigration(context.Background()); f != nil {
			t.Fatal(f)
		}
	}
	if len(h.z.reqs) != 0 {
		t.Errorf("with the budget at the reserve the job asked Zulip %v", h.z.reqs)
	}
}

// Zulip refuses the bot's list (a revoked API key): the migration stays
// "running", not "waiting for Zulip", and nobody is told; the status then
// promises an end time that never comes.
func TestReview2ListRefusedIsShown(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.errs["users"] = errUnauth
	review2Run(h, 3)
	got := migrationOf(t, h, m.ID)
	told := 0
	for _, n := range h.notes.sent {
		if n.n.Kind == NoticeMigration && n.n.Migration.Blocked == CodeZulipUnauthorized {
			told++
		}
	}
	if got.State != MigrationRunning || got.Blocked != CodeZulipUnauthorized || told != 1 {
		t.Errorf("Zulip refuses the bot, the migration shows %s (blocked %q), told %d times: %v", got.State, got.Blocked, told, h.notes.sent)
	}
}

// A user linked to another Zulip account than the plan's is skipped as
// "not linked", which the report words as "not linked to a Zulip account:
// run /account link-all first" — false: they are linked, and link-all
// changes nothing for them.
func TestReview2RelinkedUserIsNotReportedAsNotLinked(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.accounts[30] = &zAccount{id: 30, addr: "ok@old.example.net"}
	if _, _, err := h.links.RemoveLink("ok"); err != nil {
		t.Fatal(err)
	}
	if err := h.links.AddLink(Link{UserID: "ok", ZulipUserID: 30}); err != nil {
		t.Fatal(err)
	}
	runAll(t, h, 10)
	if it := review2By(migrationOf(t, h, m.ID))["ok"]; it.Skip == MigrateSkipNotLinked {
		t.Errorf("ok, linked to Zulip account 30, is reported as not linked: %+v", it)
	}
}

// review2FailingSaves fails every SaveMigration of a finished migration.
type review2FailingSaves struct {
	memStore
	failures int
}

func (s *review2FailingSaves) SaveMigration(m Migration) error {
	if m.State == MigrationDone {
		s.failures++
		return errors.New("kv down")
	}
	return s.memStore.SaveMigration(m)
}

// The end is told before it is saved: while the save fails, each run
// finishes the migration again and tells the admin "done" again.
func TestReview2DoneIsToldOnce(t *testing.T) {
	h := planHarness(t)
	startedPlan(t, h)
	d := h.deps(h.z)
	st := &review2FailingSaves{memStore: d.Store.(memStore)}
	d.Store = st
	svc := newTestService(d, withNow(h))
	for range 10 {
		_, _ = svc.RunMigration(context.Background())
	}
	done := 0
	for _, n := range h.notes.sent {
		if n.n.Kind == NoticeMigration && n.n.Migration.State == MigrationDone {
			done++
		}
	}
	if done > 1 {
		t.Errorf("the admin was told %d times that the migration is done (the save failed %d times, it is not done)", done, st.failures)
	}
}
