package account

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// startedPlan plans old.example -> new.example on planHarness and starts it.
func startedPlan(t *testing.T, h *harness) Migration {
	t.Helper()
	m, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	started, replanned, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationStart)
	if f != nil || started.State != MigrationRunning || replanned || started.StartedAt == nil {
		t.Fatalf("start: %v %+v replanned %v", f, started, replanned)
	}
	return started
}

// runAll runs the job until the migration is no longer running (at most n runs).
func runAll(t *testing.T, h *harness, n int) []MigrationStep {
	t.Helper()
	var steps []MigrationStep
	for range n {
		step, f := h.service().RunMigration(context.Background())
		if f != nil {
			t.Fatalf("run: %v", f)
		}
		steps = append(steps, step)
		if step.Finished || step.ID == "" {
			break
		}
	}
	return steps
}

func migrationOf(t *testing.T, h *harness, id string) Migration {
	t.Helper()
	m, ok, _ := h.migrations.Migration(id)
	if !ok {
		t.Fatalf("no migration %s", id)
	}
	return m
}

// Issue 16: a started migration changes every user to change in both
// systems through the flow (records with the origin and the migration,
// the users told as for an admin's change), one Zulip PATCH per user after
// one list per batch, leaves the skipped ones untouched, and tells the
// admin at the end.
func TestMigrationRunsToTheEnd(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.reqs = nil
	steps := runAll(t, h, 10)
	if last := steps[len(steps)-1]; !last.Finished {
		t.Fatalf("steps %+v", steps)
	}
	got := migrationOf(t, h, m.ID)
	if got.State != MigrationDone || got.EndedAt == nil || got.Progress() != (MigrationProgress{Done: 3, Skipped: 10}) {
		t.Fatalf("migration %s, progress %+v", got.State, got.Progress())
	}
	for _, it := range got.Items {
		user := h.mm.users[it.UserID]
		if it.Skip != "" {
			if user.Email != it.OldEmail || it.ChangeID != "" {
				t.Errorf("skipped %s changed: %s", it.UserID, user.Email)
			}
			continue
		}
		if it.Status != ItemDone || user.Email != it.NewEmail || h.z.addrOf(it.ZulipUserID) != it.NewEmail {
			t.Errorf("%s: %s, Mattermost %s, Zulip %s", it.UserID, it.Status, user.Email, h.z.addrOf(it.ZulipUserID))
		}
		rec := stored(t, h, it.ChangeID)
		if rec.Origin != OriginMigration || rec.MigrationID != m.ID || rec.RequestedBy != "root" || rec.State != StateDone || rec.OldEmail != it.OldEmail {
			t.Errorf("%s: record %+v", it.UserID, rec)
		}
	}
	var patches, lists int
	for _, r := range h.z.reqs {
		switch {
		case strings.HasPrefix(r, "patch:") && !strings.HasPrefix(r, "patch:1->"):
			patches++
		case r == "users":
			lists++
		case strings.HasPrefix(r, "get"):
			t.Errorf("a per-user lookup: %s", r)
		}
	}
	if patches != 3 || lists != 1 {
		t.Errorf("%d PATCHes and %d lists: %v", patches, lists, h.z.reqs)
	}
	var onBehalf, admin int
	for _, n := range h.notes.sent {
		switch {
		case n.n.Kind == NoticeOnBehalf:
			onBehalf++
		case n.n.Kind == NoticeMigration && n.userID == "root":
			admin++
			if n.n.Migration.State != MigrationDone && n.n.Migration.ToldPercent == 0 {
				t.Errorf("a progress notice at 0%%: %+v", n.n.Migration)
			}
		}
	}
	if onBehalf != 3 || admin < 1 {
		t.Errorf("%d notices to users, %d to the admin: %v", onBehalf, admin, h.notes.sent)
	}
	// Done: nothing more runs, nobody is changed twice.
	before := len(h.mm.updates)
	runAll(t, h, 3)
	if len(h.mm.updates) != before {
		t.Error("a done migration changed someone again")
	}
}

// A restart in the middle: a user begun whose change was recorded is
// settled from the record (never changed twice); one begun but never
// recorded goes again.
func TestMigrationResumesAfterARestart(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	cur := migrationOf(t, h, m.ID)
	var recorded, unrecorded int = -1, -1
	for i, it := range cur.Items {
		if it.Skip == "" && recorded < 0 {
			recorded = i
		} else if it.Skip == "" && unrecorded < 0 {
			unrecorded = i
		}
	}
	// The first was changed before the restart (its record says done).
	it := &cur.Items[recorded]
	it.Status, it.ChangeID = ItemStarted, newChangeID()
	h.mm.users[it.UserID].Email = it.NewEmail
	h.z.accounts[it.ZulipUserID].addr = it.NewEmail
	done := Change{ID: it.ChangeID, UserID: it.UserID, State: StateDone, OldEmail: it.OldEmail, NewEmail: it.NewEmail, CreatedAt: h.clock.now()}
	if err := h.rec.SaveChange(context.Background(), &done); err != nil {
		t.Fatal(err)
	}
	// The second was begun, but its change never recorded.
	cur.Items[unrecorded].Status, cur.Items[unrecorded].ChangeID = ItemStarted, newChangeID()
	if err := h.migrations.SaveMigration(cur); err != nil {
		t.Fatal(err)
	}
	h.mm.updates = nil
	runAll(t, h, 10)
	got := migrationOf(t, h, m.ID)
	if got.State != MigrationDone || got.Items[recorded].Status != ItemDone || got.Items[recorded].ChangeID != done.ID || got.Items[unrecorded].Status != ItemDone {
		t.Fatalf("%s: %+v, %+v", got.State, got.Items[recorded], got.Items[unrecorded])
	}
	for _, u := range h.mm.updates {
		if strings.EqualFold(u, got.Items[recorded].NewEmail) {
			t.Errorf("the user changed before the restart was changed again")
		}
	}
	if len(h.mm.updates) != 2 {
		t.Errorf("Mattermost updates %v, want the two other users'", h.mm.updates)
	}
}

// Pause stops before the next user; resume goes on; cancel stops for good
// and what was done stays done. Only admins move a migration.
func TestMigrationPauseResumeCancel(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	if _, _, f := h.service().ControlMigration(context.Background(), "ok", "s-ok", m.ID, MigrationPause); f == nil || f.Code != CodeAdminOnly {
		t.Errorf("a user paused: %v", f)
	}
	if p, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", "", MigrationPause); f != nil || p.State != MigrationPaused {
		t.Fatalf("pause the latest: %v %+v", f, p.State)
	}
	runAll(t, h, 3)
	if len(h.mm.updates) != 0 {
		t.Fatalf("a paused migration changed %v", h.mm.updates)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationStart); f == nil || f.Code != CodeMigrationState || f.Detail != "paused" {
		t.Errorf("started twice: %v", f)
	}
	if r, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationResume); f != nil || r.State != MigrationRunning {
		t.Fatalf("resume: %v", f)
	}
	// One user, then cancel.
	cur := migrationOf(t, h, m.ID)
	first := pendingItems(cur)[0]
	if _, err := h.service().migrateUser(context.Background(), &cur, first, mustList(t, h)); err != nil {
		t.Fatal(err)
	}
	if err := h.migrations.SaveMigration(cur); err != nil {
		t.Fatal(err)
	}
	c, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationCancel)
	if f != nil || c.State != MigrationCancelled || c.EndedAt == nil {
		t.Fatalf("cancel: %v %+v", f, c)
	}
	runAll(t, h, 3)
	got := migrationOf(t, h, m.ID)
	if p := got.Progress(); p.Done != 1 || p.Left != 2 || len(h.mm.updates) != 1 {
		t.Errorf("after cancel: %+v, updates %v", p, h.mm.updates)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationResume); f == nil || f.Code != CodeMigrationState {
		t.Errorf("a cancelled migration resumed: %v", f)
	}
}

func mustList(t *testing.T, h *harness) *zulipList {
	t.Helper()
	l, f := h.service().zulipList(context.Background())
	if f != nil {
		t.Fatal(f)
	}
	return l
}

// What changed since the plan is found at the user's turn: skipped with
// the reason, and the others go on.
func TestMigrationSkipsWhatChangedSinceThePlan(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.accounts[26] = &zAccount{id: 26, addr: "ok@new.example"} // someone took ok's new address in Zulip
	h.mm.users["caps"].AuthService = "gitlab"                    // caps became an SSO user
	runAll(t, h, 10)
	got := migrationOf(t, h, m.ID)
	by := map[string]MigrationItem{}
	for _, it := range got.Items {
		by[it.UserID] = it
	}
	if by["ok"].Status != ItemSkipped || by["ok"].Skip != MigrateSkipTakenInZulip || h.mm.users["ok"].Email != "ok@old.example" {
		t.Errorf("ok: %+v, Mattermost %s", by["ok"], h.mm.users["ok"].Email)
	}
	if by["caps"].Status != ItemSkipped || by["caps"].Skip != MigrateSkipSSO || h.mm.users["caps"].Email != "Caps@OLD.Example" {
		t.Errorf("caps: %+v", by["caps"])
	}
	if by["long"].Status != ItemDone || got.State != MigrationDone {
		t.Errorf("long: %+v, migration %s", by["long"], got.State)
	}
}

// Zulip out of reach: the batch changes nobody and the migration waits,
// running; once Zulip is back it goes on by itself.
func TestMigrationWaitsForZulip(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.errs["users"] = errDown
	step, f := h.service().RunMigration(context.Background())
	if f != nil || !step.ZulipOut || step.Changed != 0 || len(h.mm.updates) != 0 {
		t.Fatalf("step %+v %v, updates %v", step, f, h.mm.updates)
	}
	if got := migrationOf(t, h, m.ID); got.State != MigrationRunning || got.Blocked != CodeZulipUnavailable {
		t.Errorf("while Zulip is down: %s, blocked %q", got.State, got.Blocked)
	}
	delete(h.z.errs, "users")
	runAll(t, h, 10)
	if got := migrationOf(t, h, m.ID); got.State != MigrationDone || got.Blocked != "" || got.Progress().Done != 3 {
		t.Errorf("after Zulip is back: %s, %+v", got.State, got.Progress())
	}
}

// Zulip's budget down to the reserve: the batch stops, leaving it to
// users' own changes.
func TestMigrationLeavesTheReserve(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	// Too little for a batch of the 3 users and its list: no list is read.
	b := &budgetZulip{fakeZulip: h.z, remaining: migrationReserve + 3}
	svc := newTestService(h.deps(b), withNow(h))
	h.z.reqs = nil
	if step, f := svc.RunMigration(context.Background()); f != nil || step.Changed != 0 || len(h.z.reqs) != 0 {
		t.Fatalf("step %+v %v, requests %v: want nothing", step, f, h.z.reqs)
	}
	// Room for the batch; the budget then falls to the reserve after one.
	b.remaining = migrationReserve + 4
	h.z.onPatch = func() { b.remaining = migrationReserve }
	step, f := svc.RunMigration(context.Background())
	if f != nil || step.Changed != 1 {
		t.Fatalf("step %+v %v: want one user, then the reserve", step, f)
	}
	if got := migrationOf(t, h, m.ID); got.Progress().Done != 1 || got.State != MigrationRunning {
		t.Errorf("%+v", got.Progress())
	}
}

type budgetZulip struct {
	*fakeZulip
	remaining int
}

func (b *budgetZulip) Budget() (int, bool) { return b.remaining, true }

func withNow(h *harness) Settings {
	o := h.opts
	o.Now = h.clock.now
	return o
}

// With Require Email Verification every change waits for its link; the
// migration ends, and each user shows as waiting until their link is
// opened, then done.
func TestMigrationWithVerification(t *testing.T) {
	h := planHarness(t)
	h.mm.verify = true
	m := startedPlan(t, h)
	changed := 0
	for _, s := range runAll(t, h, 10) {
		changed += s.Changed
	}
	if changed != 3 {
		t.Errorf("%d users changed or begun, want 3", changed)
	}
	got, f := h.service().MigrationOf("root", "s-root", m.ID)
	if f != nil || got.State != MigrationDone || got.Progress().Waiting != 3 {
		t.Fatalf("%v %s %+v", f, got.State, got.Progress())
	}
	for _, it := range got.Items {
		if it.Skip == "" {
			h.mm.users[it.UserID].Email = it.NewEmail // the link is opened
		}
	}
	h.clock.advance(time.Minute)
	runJob(t, h)
	got, _ = h.service().MigrationOf("root", "s-root", m.ID)
	if got.Progress().Done != 3 {
		t.Errorf("after the links: %+v", got.Progress())
	}
	for _, it := range got.Items {
		if it.Skip == "" && h.z.addrOf(it.ZulipUserID) != it.NewEmail {
			t.Errorf("%s: Zulip %s", it.UserID, h.z.addrOf(it.ZulipUserID))
		}
	}
}

// Every move of the table, and no other.
func TestMigrationMoves(t *testing.T) {
	all := []MigrationState{MigrationPlanned, MigrationRunning, MigrationPaused, MigrationCancelled, MigrationDone}
	allowed := map[MigrationAction]map[MigrationState]MigrationState{
		MigrationStart:  {MigrationPlanned: MigrationRunning},
		MigrationPause:  {MigrationRunning: MigrationPaused},
		MigrationResume: {MigrationPaused: MigrationRunning},
		MigrationCancel: {MigrationPlanned: MigrationCancelled, MigrationRunning: MigrationCancelled, MigrationPaused: MigrationCancelled},
		migrationFinish: {MigrationRunning: MigrationDone},
	}
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for a, moves := range allowed {
		for _, from := range all {
			m := Migration{State: from}
			to, ok := moves[from]
			if got := m.moveTo(a, now); got != ok || (ok && m.State != to) || (!ok && m.State != from) {
				t.Errorf("%s from %s: moved %v to %s", a, from, got, m.State)
			}
		}
	}
	if m := (Migration{State: MigrationPlanned}); m.moveTo("jump", now) {
		t.Error("an unknown action moved")
	}
}

// Each user is noted as begun, with the id of their change, before
// anything changes (a restart then never changes them twice).
func TestMigrationNotesTheTurnFirst(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	checked := 0
	h.z.onPatch = func() {
		cur := h.migrations.byID[m.ID]
		for _, it := range cur.Items {
			if it.Status == ItemStarted && it.ChangeID != "" && h.mm.users[it.UserID].Email == it.NewEmail {
				checked++
			}
		}
	}
	runAll(t, h, 10)
	if checked != 3 {
		t.Errorf("%d of 3 users were noted as begun when Zulip changed", checked)
	}
}

// Starting computes the plan again: a stale one (over an hour old, or
// whose counts no longer hold) is said to be; the fresh one is run.
func TestMigrationStartReplans(t *testing.T) {
	h := planHarness(t)
	m, _ := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	h.mm.add(User{ID: "late", Username: "late", Email: "late@old.example", EmailVerified: true})
	h.z.accounts[27] = &zAccount{id: 27, addr: "late@old.example"}
	h.links.byUser["late"], h.links.byZulip[27] = Link{UserID: "late", ZulipUserID: 27}, "late"
	s, replanned, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationStart)
	if f != nil || !replanned || s.ToChange() != 4 || s.ID != m.ID {
		t.Fatalf("start: %v replanned %v, to change %d", f, replanned, s.ToChange())
	}
	h2 := planHarness(t)
	m2, _ := h2.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	h2.clock.advance(61 * time.Minute)
	if _, replanned, f := h2.service().ControlMigration(context.Background(), "root", "s-root", m2.ID, MigrationStart); f != nil || !replanned {
		t.Errorf("a plan over an hour old: %v replanned %v", f, replanned)
	}
}

// Changed in either system since the plan: skipped at the user's turn.
func TestMigrationSkipsChangesMadeMeanwhile(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.mm.users["ok"].Email = "ok.other@example.org"
	h.z.accounts[24].addr = "long.other@example.org"
	runAll(t, h, 10)
	by := map[string]MigrationItem{}
	for _, it := range migrationOf(t, h, m.ID).Items {
		by[it.UserID] = it
	}
	if by["ok"].Skip != MigrateSkipChangedMeanwhile || h.mm.users["ok"].Email != "ok.other@example.org" || h.z.addrOf(10) != "ok@old.example" {
		t.Errorf("ok: %+v", by["ok"])
	}
	if by["long"].Skip != MigrateSkipZulipDiffers || h.z.addrOf(24) != "long.other@example.org" {
		t.Errorf("long: %+v", by["long"])
	}
	if by["caps"].Status != ItemDone {
		t.Errorf("caps: %+v", by["caps"])
	}
}

// The admin is told at each tenth of the way reached (a batch may pass
// several) and at the end, never twice for the same tenth.
func TestMigrationTellsTheAdminEachTenth(t *testing.T) {
	users := []User{{ID: "root", Username: "root", Email: "root@example.com", EmailVerified: true}}
	var addrs []string
	for i := range 45 {
		users = append(users, User{ID: fmt.Sprintf("u%02d", i), Username: fmt.Sprintf("u%02d", i), Email: fmt.Sprintf("u%02d@old.example", i), EmailVerified: true})
		addrs = append(addrs, fmt.Sprintf("u%02d@old.example", i))
	}
	h := newHarness(users, addrs...)
	h.mm.admins["root"] = true
	for i := range 45 {
		id := fmt.Sprintf("u%02d", i)
		h.links.byUser[id], h.links.byZulip[10+i] = Link{UserID: id, ZulipUserID: 10 + i}, id
	}
	m, _ := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationStart); f != nil {
		t.Fatal(f)
	}
	steps := runAll(t, h, 10)
	changed := 0
	for _, s := range steps {
		changed += s.Changed
	}
	var told []int
	for _, n := range h.notes.sent {
		if n.n.Kind == NoticeMigration {
			told = append(told, n.n.Migration.ToldPercent)
		}
	}
	// 20 of 45 (44%), 40 of 45 (88%), then the end.
	if fmt.Sprint(told) != "[40 80 100]" || changed != 45 {
		t.Errorf("told at %v, %d changed", told, changed)
	}
}

// One migration at a time: no new plan while one runs or is paused, and
// no second start while one is under way.
func TestOneMigrationAtATime(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	if _, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "other.example"); f == nil || f.Code != CodeMigrationState || f.Detail != "running" {
		t.Errorf("planned while one runs: %v", f)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationCancel); f != nil {
		t.Fatal(f)
	}
	old, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "other.example")
	if f != nil {
		t.Fatalf("planned after the cancel: %v", f)
	}
	if _, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "third.example"); f != nil {
		t.Fatal(f)
	}
	newer, _, _ := h.migrations.LatestMigration()
	// An older plan may start (the job carries the one under way); the
	// newer one then cannot, until it ends.
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", old.ID, MigrationStart); f != nil {
		t.Fatalf("the older plan: %v", f)
	}
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", newer, MigrationStart); f == nil || f.Code != CodeMigrationState {
		t.Errorf("two migrations under way: %v", f)
	}
	runAll(t, h, 10)
	if got := migrationOf(t, h, old.ID); got.State != MigrationDone {
		t.Errorf("the older plan, started: %s", got.State)
	}
}

// A batch holding the migration's lock longer than an admin waits: the
// admin is told the migration is busy, in words about the migration.
func TestMigrationBusyIsToldAsSuch(t *testing.T) {
	h := planHarness(t)
	h.opts.MigrationLockWait = 300 * time.Millisecond
	m := startedPlan(t, h)
	h.locker.held[migrationLockKey(m.ID)] = true
	if _, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", "", MigrationPause); f == nil || f.Code != CodeMigrationBusy {
		t.Errorf("pause during a batch: %v", f)
	}
	if got := migrationOf(t, h, m.ID); got.State != MigrationRunning {
		t.Errorf("paused anyway: %s", got.State)
	}
}
