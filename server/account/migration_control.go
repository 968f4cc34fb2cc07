package account

import (
	"context"
	"errors"
	"time"
)

// This file is what an admin does to a domain migration: start, pause,
// resume and cancel it, and read it. The job's batches (migration_run.go)
// and these moves take the migration's lock, so that one writes at a time.

// migrationPlanMaxAge: a plan older than this is computed again at start.
const migrationPlanMaxAge = time.Hour

// migrationLockWait is how long an admin's move waits for a batch to end.
const migrationLockWait = 25 * time.Second

// migrationLockKey is the migration's lock, in the per-user lock's space.
func migrationLockKey(id string) string { return "migration_" + id }

// ControlMigration makes an admin's move on the migration with id (the
// one under way when id is empty, else the one planned last): start, pause, resume or cancel. Starting
// computes the plan again (it may be stale: users changed, linked or
// deactivated since) and runs the fresh one; Replanned says its counts
// differ from the plan the admin read, or that plan was over an hour old.
func (s *Service) ControlMigration(ctx context.Context, adminID, sessionID, id string, a MigrationAction) (m Migration, replanned bool, f *Failure) {
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return Migration{}, false, f
	}
	if _, ok := migrationMoves[a]; !ok || a == migrationFinish {
		return Migration{}, false, newFailure(CodeMigrationState, errors.New("no such action"))
	}
	id, f = s.migrationID(id)
	if f != nil {
		return Migration{}, false, f
	}
	unlock, f := s.lockMigration(ctx, id)
	if f != nil {
		return Migration{}, false, f
	}
	defer unlock()
	m, f = s.readMigration(id)
	if f != nil {
		return Migration{}, false, f
	}
	if a == MigrationStart && m.State == MigrationPlanned {
		// Claimed before the plan is computed again (seconds on a large
		// server): two starts at once never both run.
		if f := s.claimActive(id); f != nil {
			return m, false, f
		}
		if m, replanned, f = s.replan(ctx, m); f != nil {
			_ = s.opts.Migrations.ReleaseActiveMigration(id)
			return Migration{}, false, f
		}
		m.StartedBy = adminID
	}
	if a == MigrationResume {
		m.StartedBy = adminID // carried on in the name of the admin who resumed it
	}
	from := m.State
	if !m.moveTo(a, s.opts.Now()) {
		f := newFailure(CodeMigrationState, nil)
		f.Detail = string(m.State)
		return m, false, f
	}
	if a == MigrationResume {
		m.Blocked = ""
	}
	if err := s.opts.Migrations.SaveMigration(m); err != nil {
		if a == MigrationStart {
			_ = s.opts.Migrations.ReleaseActiveMigration(id)
		}
		return Migration{}, false, newFailure(CodeInternal, err)
	}
	// The job carries the active migration on; only a start claims it, and
	// only the end or a cancel of that migration releases it (the job
	// releases one whose end was saved without it).
	if a == MigrationCancel {
		if err := s.opts.Migrations.ReleaseActiveMigration(m.ID); err != nil {
			return Migration{}, false, newFailure(CodeInternal, err)
		}
	}
	s.opts.Logger.Info("account sync: domain migration "+string(a), "migration_id", m.ID, "admin_id", adminID, "from", string(from), "to", string(m.State),
		"replanned", replanned)
	return m, replanned, nil
}

// MigrationOf returns a migration (as migrationID picks it), for a
// system admin, with its waiting users read again from their changes.
func (s *Service) MigrationOf(adminID, sessionID, id string) (Migration, *Failure) {
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return Migration{}, f
	}
	id, f := s.migrationID(id)
	if f != nil {
		return Migration{}, f
	}
	m, f := s.readMigration(id)
	if f != nil {
		return Migration{}, f
	}
	s.refreshWaiting(&m)
	return m, nil
}

// claimActive makes id the migration under way, unless another one is
// (one whose end was saved without releasing it is released first).
func (s *Service) claimActive(id string) *Failure {
	for range 2 {
		ok, err := s.opts.Migrations.ClaimActiveMigration(id)
		if err != nil {
			return newFailure(CodeInternal, err)
		}
		if ok {
			return nil
		}
		active, _, err := s.opts.Migrations.ActiveMigration()
		if err != nil {
			return newFailure(CodeInternal, err)
		}
		if other, f := s.readMigration(active); f == nil && (other.State == MigrationDone || other.State == MigrationCancelled) {
			_ = s.opts.Migrations.ReleaseActiveMigration(active)
			continue
		}
		f := newFailure(CodeMigrationState, errors.New("another migration is under way"))
		f.Detail = "not the one under way"
		return f
	}
	return newFailure(CodeMigrationBusy, nil)
}

// migrationID is id; when empty, the migration under way, else the one
// planned last.
func (s *Service) migrationID(id string) (string, *Failure) {
	if id != "" {
		if !isChangeID(id) {
			return "", newFailure(CodeMigrationNotFound, nil)
		}
		return id, nil
	}
	if active, ok, err := s.opts.Migrations.ActiveMigration(); err != nil {
		return "", newFailure(CodeInternal, err)
	} else if ok {
		return active, nil
	}
	latest, ok, err := s.opts.Migrations.LatestMigration()
	switch {
	case err != nil:
		return "", newFailure(CodeInternal, err)
	case !ok:
		return "", newFailure(CodeMigrationNotFound, nil)
	}
	return latest, nil
}

func (s *Service) readMigration(id string) (Migration, *Failure) {
	m, ok, err := s.opts.Migrations.Migration(id)
	switch {
	case err != nil:
		return Migration{}, newFailure(CodeInternal, err)
	case !ok:
		return Migration{}, newFailure(CodeMigrationNotFound, nil)
	}
	return m, nil
}

// lockMigration takes the migration's lock, waiting for a batch to end.
func (s *Service) lockMigration(ctx context.Context, id string) (func(), *Failure) {
	wait := s.opts.MigrationLockWait
	if wait <= 0 {
		wait = migrationLockWait
	}
	deadline := time.Now().Add(wait)
	for {
		unlock, ok, err := s.opts.Locker.TryLock(ctx, migrationLockKey(id))
		switch {
		case err != nil:
			return nil, newFailure(CodeInternal, err)
		case ok:
			return unlock, nil
		case time.Now().After(deadline):
			return nil, newFailure(CodeMigrationBusy, nil)
		}
		select {
		case <-ctx.Done():
			return nil, newFailure(CodeMigrationBusy, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// replan computes the plan again for the start, under the same id.
func (s *Service) replan(ctx context.Context, old Migration) (Migration, bool, *Failure) {
	fresh, f := s.computePlan(ctx, old.CreatedBy, old.From, old.To)
	if f != nil {
		return Migration{}, false, f
	}
	fresh.ID, fresh.CreatedAt = old.ID, old.CreatedAt
	stale := s.opts.Now().Sub(old.CreatedAt) > migrationPlanMaxAge || fresh.ToChange() != old.ToChange() ||
		len(fresh.Items) != len(old.Items) || !sameCounts(fresh.Skipped(), old.Skipped())
	return fresh, stale, nil
}

func sameCounts(a, b map[MigrationSkip]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// refreshWaiting reads again how the changes of waiting users stand.
func (s *Service) refreshWaiting(m *Migration) {
	for i := range m.Items {
		if it := &m.Items[i]; it.Status == ItemWaiting || it.Status == ItemStarted {
			s.settleItem(it)
		}
	}
}

// settleItem sets a begun user's status from their change record. A
// change never recorded was refused before anything changed: the user is
// pending again.
func (s *Service) settleItem(it *MigrationItem) {
	ch, ok, err := s.opts.Recorder.GetChange(it.ChangeID)
	switch {
	case err != nil:
		return // read again next time
	case !ok:
		if it.Status == ItemStarted {
			it.Status, it.ChangeID = ItemPending, ""
		}
	default:
		it.Status, it.Code = itemStatusOf(ch.State), ch.Code
	}
}

// itemStatusOf is where a user stands by their change's state.
func itemStatusOf(st State) ItemStatus {
	switch {
	case st == StateDone:
		return ItemDone
	case st.Open():
		return ItemWaiting
	default:
		return ItemFailed
	}
}
