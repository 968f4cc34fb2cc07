package account

import (
	"context"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// OriginMigration is a change made by a domain migration (MigrationID).
const OriginMigration = "migration"

// Bounds of one batch of a running migration: the job changes at most
// migrationBatch users, for at most migrationBatchTime, then lets go of
// the migration's lock (an admin's pause waits for it), and leaves
// migrationReserve of Zulip's request budget to users' own changes.
const (
	migrationBatch     = 20
	migrationBatchTime = 5 * time.Second
	migrationReserve   = 10
)

// Budget is what a Zulip client knows of its rate-limit budget: requests
// that may still start before it is renewed (known is false before the
// first answer).
type Budget interface {
	Budget() (remaining int, known bool)
}

// MigrationStep is what one run of the migration job did.
type MigrationStep struct {
	ID       string
	Changed  int  // users whose change was made, or begun (waiting for a link)
	Skipped  int  // users found not changeable when their turn came
	Failed   int  // users whose change was refused or failed
	ZulipOut bool // Zulip could not be reached: tried again next run
	Finished bool // no user left: the migration is done
}

// RunMigration carries the latest migration on by one batch when it is
// running: one Zulip request lists the users for the whole batch (each
// user's change is then one PATCH), and each user goes through the same
// flow, records, audit and messages as an admin's change for them. A user
// who cannot be changed is skipped or failed; the others go on. Zulip out
// of reach ends the batch; the next run tries again. Users are marked as
// begun (with their change's id) before their change, so that a restart
// never changes anyone twice.
func (s *Service) RunMigration(ctx context.Context) (MigrationStep, *Failure) {
	id, ok, err := s.opts.Migrations.LatestMigration()
	if err != nil || !ok || !s.syncing() {
		return MigrationStep{}, nil
	}
	step := MigrationStep{ID: id}
	unlock, okLock, err := s.opts.Locker.TryLock(ctx, migrationLockKey(id))
	if err != nil || !okLock {
		return step, nil // an admin's move, or another node's batch
	}
	defer unlock()
	m, f := s.readMigration(id)
	if f != nil || m.State != MigrationRunning {
		return step, f
	}
	var touched []int
	for i := range m.Items {
		if m.Items[i].Status == ItemStarted { // begun before a restart: settled from its record
			s.settleItem(&m.Items[i])
			touched = append(touched, i)
		}
	}
	pending := pendingItems(m)
	if len(pending) == 0 {
		s.finishMigration(&m, &step)
		return step, s.saveMigration(m)
	}
	list, f := s.zulipList(ctx)
	if f != nil {
		m.ZulipDown = retryable(f)
		step.ZulipOut = true
		s.logFailureKV("account sync: a domain migration waits for Zulip; the next run tries again", f, "migration_id", m.ID)
		return step, s.saveMigration(m)
	}
	m.ZulipDown = false
	deadline := time.Now().Add(migrationBatchTime)
	for n, i := range pending {
		if n >= migrationBatch || time.Now().After(deadline) || ctx.Err() != nil || s.budgetLow() {
			break
		}
		it := &m.Items[i]
		touched = append(touched, i)
		if err := s.migrateUser(ctx, &m, i, list); err != nil {
			s.opts.Logger.Error("account sync: a domain migration could not note a user's turn; the next run goes on", "migration_id", m.ID, "error", err.Error())
			break
		}
		switch it.Status {
		case ItemDone, ItemWaiting:
			step.Changed++
		case ItemSkipped:
			step.Skipped++
		case ItemFailed:
			step.Failed++
		}
		if it.Status == ItemWaiting && retryableCode(it.Code) {
			step.ZulipOut = true // Zulip stopped answering: the rest waits for the next run
			break
		}
	}
	s.tellProgress(&m)
	if err := s.opts.Migrations.SaveMigrationItems(m, touched...); err != nil {
		return step, newFailure(CodeInternal, err)
	}
	return step, nil
}

func (s *Service) saveMigration(m Migration) *Failure {
	if err := s.opts.Migrations.SaveMigration(m); err != nil {
		return newFailure(CodeInternal, err)
	}
	return nil
}

func retryableCode(c Code) bool { return codeTable[c].kind == kindPassing }

// pendingItems are the indexes of the users still to be changed.
func pendingItems(m Migration) []int {
	var out []int
	for i, it := range m.Items {
		if it.Skip == "" && it.Status == ItemPending {
			out = append(out, i)
		}
	}
	return out
}

// zulipList is Zulip's users, read once for a batch.
type zulipList struct {
	byID   map[int]zulip.User
	byAddr map[string]int
}

func (s *Service) zulipList(ctx context.Context) (*zulipList, *Failure) {
	zctx, cancel := context.WithTimeout(ctx, driftTimeout)
	members, err := s.zc.Users(zctx)
	cancel()
	if err != nil {
		return nil, zulipFailure(err, CodeZulipRejected)
	}
	l := &zulipList{byID: make(map[int]zulip.User, len(members)), byAddr: make(map[string]int, len(members))}
	for _, m := range members {
		l.byID[m.ID] = m
		if a := m.RealAddress(); a != "" {
			l.byAddr[strings.ToLower(a)] = m.ID
		}
	}
	return l, nil
}

// budgetLow tells that Zulip's budget is down to what is left for users'
// own changes.
func (s *Service) budgetLow() bool {
	b, ok := s.zc.(Budget)
	if !ok {
		return false
	}
	remaining, known := b.Budget()
	return known && remaining <= migrationReserve
}

// migrateUser makes the change of the user at index i, checked against
// Zulip's list: still linked to the same account, which still has the old
// address (or already the new one), and the new address free. The user is
// marked as begun, with the change's id, before anything changes.
func (s *Service) migrateUser(ctx context.Context, m *Migration, i int, list *zulipList) error {
	it := &m.Items[i]
	target, skip := s.migrationTarget(*it, list)
	if skip != "" {
		it.Status, it.Skip = ItemSkipped, skip
		return nil
	}
	it.Status, it.ChangeID = ItemStarted, newChangeID()
	if err := s.opts.Migrations.SaveMigrationItems(*m, i); err != nil {
		it.Status, it.ChangeID = ItemPending, ""
		return err
	}
	res := s.changeForMigration(ctx, *m, *it, target)
	switch {
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeBusy:
		it.Status, it.ChangeID = ItemPending, "" // the user's own command runs: their turn comes again
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeChangedMeanwhile:
		it.Status, it.Skip, it.ChangeID = ItemSkipped, MigrateSkipChangedMeanwhile, ""
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeChangeOpen:
		it.Status, it.Skip, it.ChangeID = ItemSkipped, MigrateSkipOpenChange, ""
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeManagedBySSO:
		it.Status, it.Skip, it.ChangeID = ItemSkipped, MigrateSkipSSO, ""
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeUserDeactivated:
		it.Status, it.Skip, it.ChangeID = ItemSkipped, MigrateSkipDeactivated, ""
	case res.Change.State == StateRefused && res.Failure != nil && res.Failure.Code == CodeTakenInMattermost:
		it.Status, it.Skip, it.ChangeID = ItemSkipped, MigrateSkipTakenInMattermost, ""
	case res.Change.State == StateRefused:
		it.Status, it.ChangeID = ItemFailed, ""
		if res.Failure != nil {
			it.Code = res.Failure.Code
		}
	default:
		it.Status, it.Code = itemStatusOf(res.Change.State), res.Change.Code
	}
	return nil
}

// migrationTarget checks one user against Zulip's list.
func (s *Service) migrationTarget(it MigrationItem, list *zulipList) (zulipTarget, MigrationSkip) {
	l, linked, err := s.opts.Links.Link(it.UserID)
	if err != nil || !linked || l.ZulipUserID != it.ZulipUserID {
		return zulipTarget{}, MigrateSkipNotLinked
	}
	zu, ok := list.byID[it.ZulipUserID]
	if !ok || !activeHuman(&zu) {
		return zulipTarget{}, MigrateSkipZulipInactive
	}
	t := zulipTarget{userID: zu.ID}
	switch {
	case strings.EqualFold(zu.RealAddress(), it.NewEmail):
		t.alreadyChanged = true
	case !strings.EqualFold(zu.RealAddress(), it.OldEmail):
		return zulipTarget{}, MigrateSkipZulipDiffers
	}
	if other, ok := list.byAddr[strings.ToLower(it.NewEmail)]; ok && other != zu.ID {
		return zulipTarget{}, MigrateSkipTakenInZulip
	}
	return t, ""
}

// changeForMigration is an admin's change of one user's email, made by the
// migration: no session (the admin started the migration through the
// admin gate), limits off as for any admin's change, Zulip's checks made
// from the batch's list. The user is told as for an admin's change.
func (s *Service) changeForMigration(ctx context.Context, m Migration, it MigrationItem, target zulipTarget) Result {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	now := s.opts.Now()
	res := Result{Input: it.NewEmail, known: &target, Change: Change{ID: it.ChangeID, UserID: it.UserID, RequestedBy: m.CreatedBy, Origin: OriginMigration,
		MigrationID: m.ID, NewEmail: it.NewEmail, Mattermost: StatusUntouched, Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now}}
	if f := s.domainAllowed(it.NewEmail); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	unlock, f := s.lockUser(ctx, it.UserID)
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	defer unlock()
	user, err := s.mm.GetUser(it.UserID)
	if err != nil {
		return s.refuse(&res, StepValidate, newFailure(CodeMattermostFailed, err))
	}
	res.Change.OldEmail = user.Email
	if !strings.EqualFold(user.Email, it.OldEmail) {
		f := newFailure(CodeChangedMeanwhile, nil)
		f.Detail = user.Email
		return s.refuse(&res, StepValidate, f)
	}
	if f := s.checkOpenChange(user.ID, &res); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	if f := s.validateUser(user, it.NewEmail); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	res.Change.record(s.opts.Now(), StepValidate, nil)
	s.attempt(ctx, &res, user, &limiter{userID: user.ID, off: true})
	out := s.finish(ctx, &res)
	if out.Change.State != StateRefused {
		s.notifyOnBehalf(out)
	}
	return out
}

// finishMigration ends a migration with no user left, and tells its admin.
func (s *Service) finishMigration(m *Migration, step *MigrationStep) {
	if !m.moveTo(migrationFinish, s.opts.Now()) {
		return
	}
	step.Finished = true
	m.ToldPercent = 100
	s.opts.Logger.Info("account sync: domain migration done", "migration_id", m.ID)
	s.tellAdmin(*m)
}

// tellProgress tells the migration's admin each tenth of the way.
func (s *Service) tellProgress(m *Migration) {
	total := m.ToChange()
	if total == 0 {
		return
	}
	reached := (total - m.Progress().Left) * 100 / total // the users reached, of those the plan was to change
	reached -= reached % 10
	if reached <= m.ToldPercent || reached == 100 {
		return // the end is told when the migration is done
	}
	m.ToldPercent = reached
	s.tellAdmin(*m)
}

func (s *Service) tellAdmin(m Migration) {
	if err := s.opts.Notifier.Notify(m.CreatedBy, Notice{Kind: NoticeMigration, Migration: m}); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the admin how a domain migration goes", "migration_id", m.ID, "error", err.Error())
	}
}
