package account

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Review 3: the domain migration after review 2.

// review3Start starts the migration id as root, failing the test on a refusal.
func review3Start(t *testing.T, svc *Service, id string) {
	t.Helper()
	if _, _, f := svc.ControlMigration(context.Background(), "root", "s-root", id, MigrationStart); f != nil {
		t.Fatalf("start %s: %v", id, f)
	}
}

// Two plans, started at the same time (two admins, or the Start button and
// POST /migrations/{id}/start): each start holds only its own migration's
// lock, and reads "no migration under way" before its re-plan (a full read
// of Mattermost and a Zulip list: seconds on a large server), then sets the
// pointer after it. Both pass; the last to set the pointer wins, and the
// other one stays "running" for ever: the job never carries it, a start or
// a resume of it is refused, and no move sets the pointer again.
func TestReview3ConcurrentStartsLeaveOneRunningForEver(t *testing.T) {
	h := planHarness(t)
	a, f := h.service().PlanMigration(context.Background(), "root", "s-root", "sub.old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	b, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if f != nil {
		t.Fatal(f)
	}
	d := h.deps(h.z)
	d.Mattermost = &review2HookMM{fakeMattermost: h.mm, hook: func() {
		// While A's start computes its plan again, another admin starts B.
		_, _, f := h.service().ControlMigration(context.Background(), "root", "s-root", b.ID, MigrationStart)
		if f != nil {
			t.Logf("the second start was refused: %v", f)
		}
	}}
	_, _, fa := newTestService(d, withNow(h)).ControlMigration(context.Background(), "root", "s-root", a.ID, MigrationStart)
	if fa != nil {
		t.Logf("the first start was refused: %v", fa)
	}
	review2Run(h, 20)
	ga, gb := migrationOf(t, h, a.ID), migrationOf(t, h, b.ID)
	for _, m := range []Migration{ga, gb} {
		if m.State == MigrationRunning {
			t.Errorf("migration %s (%s -> %s) is running with nobody carrying it: the pointer names %q; progress %+v",
				m.ID, m.From, m.To, h.migrations.active, m.Progress())
		}
	}
}

// review3FlakyActive fails the next release of the migration under way once.
type review3FlakyActive struct {
	memStore
	fail int
}

func (s *review3FlakyActive) ReleaseActiveMigration(id string) error {
	if s.fail > 0 {
		s.fail--
		return errors.New("kv: write timed out")
	}
	return s.memStore.ReleaseActiveMigration(id)
}

// The end of a migration is saved, then the pointer cleared: one failed
// clear (a KV write timing out) leaves the pointer on a migration that is
// done. The job then returns at once (state not running) and never clears
// it; noOtherActive refuses every later start ("another migration is under
// way") and /account migrate status shows the finished migration for ever.
// Nothing an admin can do clears it: a cancel of a done migration is
// refused before the clear.
func TestReview3OneFailedClearBlocksEveryLaterMigration(t *testing.T) {
	for _, how := range []string{"finish", "cancel"} {
		t.Run(how, func(t *testing.T) {
			h := planHarness(t)
			d := h.deps(h.z)
			st := &review3FlakyActive{memStore: d.Store.(memStore)}
			d.Store = st
			svc := newTestService(d, withNow(h))
			m, f := svc.PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
			if f != nil {
				t.Fatal(f)
			}
			review3Start(t, svc, m.ID)
			st.fail = 1
			if how == "finish" {
				for range 10 {
					_, _ = svc.RunMigration(context.Background())
				}
			} else {
				_, _, _ = svc.ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationCancel)
				// The admin tries again.
				_, _, _ = svc.ControlMigration(context.Background(), "root", "s-root", m.ID, MigrationCancel)
			}
			for range 5 {
				_, _ = svc.RunMigration(context.Background())
			}
			next, f := svc.PlanMigration(context.Background(), "root", "s-root", "sub.old.example", "new.example")
			if f != nil {
				t.Fatalf("a new plan: %v", f)
			}
			if _, _, f := svc.ControlMigration(context.Background(), "root", "s-root", next.ID, MigrationStart); f != nil {
				t.Errorf("after the %s of %s (state %s), the pointer still names it (%q) and a new migration cannot start: %v (%s)",
					how, m.ID, migrationOf(t, h, m.ID).State, h.migrations.active, f, f.Detail)
			}
		})
	}
}

// review3OneUserFails fails every UpdateEmail of one user, as a server does
// for an account its own validation refuses (a legacy nickname, position or
// auto-responder too long: store.Update's IsValid), which the adapter maps
// to CodeMattermostFailed.
type review3OneUserFails struct {
	*fakeMattermost
	userID string
}

func (m *review3OneUserFails) UpdateEmail(id, email string) (string, error) {
	if id == m.userID {
		m.updates = append(m.updates, email)
		return "", fmt.Errorf("updating the email of %s: model.user.is_valid.position.app_error", id)
	}
	return m.fakeMattermost.UpdateEmail(id, email)
}

// One user whose Mattermost account the server refuses to update is an
// "admin-side cause" (CodeMattermostFailed): the whole migration is blocked
// on them, and since they stay first in line, nobody else is ever changed.
// Each run (every 30 s while blocked) records a new failed change for that
// user and sends them a direct message that an admin's change failed.
// Before this diff, the user failed and the others went on.
func TestReview3OneUsersMattermostErrorBlocksEveryoneAndSpamsThem(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	first := migrationOf(t, h, m.ID).Items[pendingItems(migrationOf(t, h, m.ID))[0]].UserID
	d := h.deps(h.z)
	d.Mattermost = &review3OneUserFails{fakeMattermost: h.mm, userID: first}
	svc := newTestService(d, withNow(h))
	for range 10 {
		_, _ = svc.RunMigration(context.Background())
	}
	got := migrationOf(t, h, m.ID)
	notices, records := 0, 0
	for _, n := range h.notes.sent {
		if n.userID == first && n.n.Kind == NoticeOnBehalf {
			notices++
		}
	}
	for _, c := range h.rec.byID {
		if c.UserID == first && c.MigrationID == m.ID {
			records++
		}
	}
	if p := got.Progress(); p.Done == 0 {
		t.Errorf("one user (%s) the server cannot update holds the migration for ever: %s, blocked %q, %+v", first, got.State, got.Blocked, p)
	}
	if notices > 1 || records > 1 {
		t.Errorf("%s was told %d times that an admin's change failed, with %d failed change records", first, notices, records)
	}
}

// A user whose change reached Mattermost, was refused by Zulip for an
// admin-side cause (the bot's key revoked), and whose rollback failed:
// the systems differ (needs attention, Mattermost at the new address). The
// item is put back to pending with its change id dropped, since Mattermost
// is not "changed" (it is "rollback failed"); at the next run the user's
// Mattermost email is no longer the old one and the migration reports them
// as skipped, "changed between the plan and the user's turn: left as it is
// now" — the migration's own half-made change, with nothing left in the
// report pointing at it.
func TestReview3HalfMadeChangeIsReportedAsChangedMeanwhile(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.mm.failRollback = true
	h.z.patchErrs = []error{nil, errUnauth} // the probe passes, the user's PATCH is refused
	review2Run(h, 1)
	h.mm.failRollback = false
	review2Run(h, 10)
	got := migrationOf(t, h, m.ID)
	for _, it := range got.Items {
		if it.Skip != "" && it.Status != ItemSkipped {
			continue
		}
		u := h.mm.users[it.UserID]
		// Fixed: the migration reports the user failed, with the change that
		// needs an admin's attention.
		if u.Email == it.NewEmail && h.z.addrOf(it.ZulipUserID) == it.OldEmail &&
			(it.Status != ItemFailed || it.ChangeID == "" || stored(t, h, it.ChangeID).State != StateNeedsAttention) {
			t.Errorf("%s: Mattermost %s, Zulip %s, and the migration says %q/%q (change id %q)",
				it.UserID, u.Email, h.z.addrOf(it.ZulipUserID), it.Status, it.Skip, it.ChangeID)
		}
	}
}

// The starter lost the system admin role: the run is blocked (AdminOnly),
// and the notice goes to the former admin, who can no longer act. Another
// admin cannot take the migration over: resume clears Blocked but keeps
// StartedBy, so the next run blocks again; only a cancel and a new plan
// get it going.
func TestReview3AnotherAdminCannotTakeOverFromADemotedStarter(t *testing.T) {
	h := planHarness(t)
	h.mm.add(User{ID: "root2", Username: "root2", Email: "root2@example.com", EmailVerified: true})
	h.mm.admins["root2"] = true
	m := startedPlan(t, h)
	h.mm.admins["root"] = false
	review2Run(h, 2)
	if got := migrationOf(t, h, m.ID); got.Blocked != CodeAdminOnly {
		t.Fatalf("blocked %q", got.Blocked)
	}
	svc := h.service()
	if _, _, f := svc.ControlMigration(context.Background(), "root2", "s-root2", m.ID, MigrationPause); f != nil {
		t.Fatal(f)
	}
	if _, _, f := svc.ControlMigration(context.Background(), "root2", "s-root2", m.ID, MigrationResume); f != nil {
		t.Fatal(f)
	}
	review2Run(h, 10)
	got := migrationOf(t, h, m.ID)
	if got.State != MigrationDone {
		t.Errorf("root2 paused and resumed the migration of a demoted admin: %s, blocked %q, started by %q, %+v",
			got.State, got.Blocked, got.StartedBy, got.Progress())
	}
}

// A user deleted from Mattermost after the plan (mmctl user delete; their
// link stays): GetUser answers "not found", refused as CodeMattermostFailed,
// an admin-side cause, so the run is blocked on them and, first in line at
// every run, they hold every other user back for ever.
func TestReview3DeletedUserBlocksTheMigration(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	first := migrationOf(t, h, m.ID).Items[pendingItems(migrationOf(t, h, m.ID))[0]].UserID
	delete(h.mm.users, first)
	review2Run(h, 10)
	got := migrationOf(t, h, m.ID)
	if p := got.Progress(); got.State != MigrationDone || p.Done != 2 {
		t.Errorf("a deleted user (%s) holds the migration: %s, blocked %q, %+v", first, got.State, got.Blocked, p)
	}
}
