package account

import (
	"context"
	"strings"
	"testing"
)

// Review 2: what held in the migration's run.

// review2Begun marks the first user to change as begun, with a record in
// state st (Mattermost changed when st is started), as a restart leaves it.
func review2Begun(t *testing.T, h *harness, id string, st State, mmChanged bool) MigrationItem {
	t.Helper()
	cur := migrationOf(t, h, id)
	i := pendingItems(cur)[0]
	it := &cur.Items[i]
	it.Status, it.ChangeID = ItemStarted, newChangeID()
	ch := Change{ID: it.ChangeID, UserID: it.UserID, RequestedBy: "root", Origin: OriginMigration, MigrationID: id, State: st, OldEmail: it.OldEmail,
		NewEmail: it.NewEmail, ZulipUserID: it.ZulipUserID, Mattermost: StatusUntouched, Zulip: StatusUntouched, CreatedAt: h.clock.now(), UpdatedAt: h.clock.now()}
	if mmChanged {
		h.mm.users[it.UserID].Email = it.NewEmail
	}
	if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	if err := h.migrations.SaveMigration(cur); err != nil {
		t.Fatal(err)
	}
	return *it
}

// A restart after Mattermost changed and before Zulip (record "started"),
// or while the change waits for Zulip: the user is settled as waiting and
// never changed again by the migration; the job ends the change.
func TestReview2HeldRestartWithAnOpenRecord(t *testing.T) {
	for _, tc := range []struct {
		st        State
		mmChanged bool
	}{{StateStarted, true}, {StateWaitingForZulip, false}} {
		h := planHarness(t)
		m := startedPlan(t, h)
		it := review2Begun(t, h, m.ID, tc.st, tc.mmChanged)
		h.mm.updates = nil
		runAll(t, h, 10)
		got := review2By(migrationOf(t, h, m.ID))[it.UserID]
		if got.Status != ItemWaiting || got.ChangeID != it.ChangeID {
			t.Errorf("%s: %+v", tc.st, got)
		}
		for _, u := range h.mm.updates {
			if strings.EqualFold(u, it.NewEmail) {
				t.Errorf("%s: %s changed again by the migration", tc.st, it.UserID)
			}
		}
		if len(h.mm.updates) != 2 {
			t.Errorf("%s: updates %v, want the two others", tc.st, h.mm.updates)
		}
	}
}

// At the user's turn: deactivated, SSO, an address outside the allowed
// domains, an open change of theirs: nothing changes in either system.
func TestReview2HeldTurnGates(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.mm.users["ok"].Deactivated = true
	h.mm.users["caps"].AuthService = "ldap"
	ch := Change{ID: newChangeID(), UserID: "long", State: StateWaitingForZulip, NewEmail: "y@example.org", CreatedAt: h.clock.now()}
	if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	h.mm.updates = nil
	runAll(t, h, 10)
	by := review2By(migrationOf(t, h, m.ID))
	if by["ok"].Skip != MigrateSkipDeactivated || by["caps"].Skip != MigrateSkipSSO || by["long"].Skip != MigrateSkipOpenChange {
		t.Errorf("%+v %+v %+v", by["ok"], by["caps"], by["long"])
	}
	if len(h.mm.updates) != 0 || len(h.z.patches) != 0 {
		t.Errorf("changed: %v %v", h.mm.updates, h.z.patches)
	}

	h2 := planHarness(t)
	m2 := startedPlan(t, h2)
	h2.opts.AllowedDomains = []string{"example.com"}
	runAll(t, h2, 10)
	for _, it := range migrationOf(t, h2, m2.ID).Items {
		if it.Skip == "" && (it.Status != ItemFailed || it.Code != CodeDomainNotAllowed) {
			t.Errorf("outside the allowed domains: %+v", it)
		}
	}
	if len(h2.mm.updates) != 0 {
		t.Errorf("changed: %v", h2.mm.updates)
	}
}

// res.known skips the per-user lookups, not the server's version and the
// bot's permission (zulipReady): a Zulip too old refuses the change before
// Mattermost moves.
func TestReview2HeldZulipReadyStillChecked(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.z.level = 1
	runAll(t, h, 10)
	got := migrationOf(t, h, m.ID)
	for _, it := range got.Items {
		if it.Skip == "" && it.Status != ItemPending {
			t.Errorf("%+v", it)
		}
	}
	if got.Blocked != CodeZulipTooOld || got.State != MigrationRunning {
		t.Errorf("%s, blocked %q", got.State, got.Blocked)
	}
	if len(h.mm.updates) != 0 {
		t.Errorf("Mattermost changed under a Zulip too old: %v", h.mm.updates)
	}
}

// A Zulip account that took the new address after the list: Zulip refuses
// the PATCH, and Mattermost is put back.
func TestReview2HeldNewAddressTakenAfterTheList(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	taken := false
	h.locker.onLock = func() {
		if h.locker.held["ok"] && !taken {
			taken = true
			h.z.accounts[40] = &zAccount{id: 40, addr: "ok@new.example"}
		}
	}
	runAll(t, h, 10)
	it := review2By(migrationOf(t, h, m.ID))["ok"]
	if it.Status != ItemFailed || h.mm.users["ok"].Email != "ok@old.example" || h.z.addrOf(10) != "ok@old.example" {
		t.Errorf("%+v, Mattermost %s", it, h.mm.users["ok"].Email)
	}
}

// A user's own command holding their lock: the user is left pending and
// changed at a later batch, once.
func TestReview2HeldBusyUserComesBack(t *testing.T) {
	h := planHarness(t)
	m := startedPlan(t, h)
	h.locker.held["ok"] = true
	if _, f := h.service().RunMigration(context.Background()); f != nil {
		t.Fatal(f)
	}
	if it := review2By(migrationOf(t, h, m.ID))["ok"]; it.Status != ItemPending || it.ChangeID != "" {
		t.Fatalf("busy: %+v", it)
	}
	delete(h.locker.held, "ok")
	runAll(t, h, 10)
	got := migrationOf(t, h, m.ID)
	if it := review2By(got)["ok"]; it.Status != ItemDone || got.State != MigrationDone {
		t.Errorf("%+v %s", it, got.State)
	}
	n := 0
	for _, u := range h.mm.updates {
		if u == "ok@new.example" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("ok changed %d times", n)
	}
}
