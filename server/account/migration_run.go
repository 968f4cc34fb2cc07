package account

import (
	"context"
	"strings"
	"time"
)

// OriginMigration is a change made by a domain migration (MigrationID).
const OriginMigration = "migration"

// Bounds of one batch of a running migration: the job changes at most
// migrationBatch users, for at most migrationBatchTime, then lets go of
// the migration's lock (an admin's pause waits for it), and leaves
// migrationReserve of Zulip's request budget to users' own changes.
const (
	migrationBatch     = 20
	migrationBatchTime = 15 * time.Second
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

// RunMigration carries the migration under way on by one batch when it is
// running: one Zulip request lists the users for the whole batch (each
// user's change is then one PATCH), and each user goes through the same
// flow, records, audit and messages as an admin's change for them. A user
// who cannot be changed is skipped or failed; the others go on. Zulip out
// of reach ends the batch; the next run tries again. Users are marked as
// begun (with their change's id) before their change, so that a restart
// never changes anyone twice.
func (s *Service) RunMigration(ctx context.Context) (MigrationStep, *Failure) {
	id, ok, err := s.opts.Migrations.ActiveMigration()
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
	if f != nil {
		return step, f
	}
	if m.State == MigrationDone || m.State == MigrationCancelled {
		// Its end was saved but the pointer not cleared: clear it now.
		if err := s.opts.Migrations.ReleaseActiveMigration(id); err != nil {
			return step, newFailure(CodeInternal, err)
		}
		return step, nil
	}
	if m.State != MigrationRunning {
		return step, nil
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
		if begun(m) {
			return step, s.saveItems(m, touched) // a record could not be read: the next run settles it
		}
		return step, s.finishMigration(&m, &step)
	}
	if !s.mm.IsSystemAdmin(m.Starter()) {
		return step, s.block(&m, &step, newFailure(CodeAdminOnly, nil), touched)
	}
	list := s.opts.Facts.lists.take(m.ID, s.opts.Now())
	if list == nil && !s.budgetFor(min(len(pending), migrationBatch)) {
		return step, s.saveItems(m, touched) // too little budget for a batch worth its list: the rest is the users' own
	}
	if list == nil {
		asked := s.opts.Now() // its age counts from the request
		var f *Failure
		if list, f = s.zulipList(ctx); f != nil {
			return step, s.block(&m, &step, f, touched)
		}
		s.opts.Facts.lists.keep(m.ID, asked, list)
	}
	blocked := m.Blocked
	m.Blocked = ""
	deadline := time.Now().Add(migrationBatchTime)
	for n, i := range pending {
		if n >= migrationBatch || time.Now().After(deadline) || ctx.Err() != nil || s.budgetLow() ||
			n > 0 && s.opts.Facts.lists.take(m.ID, s.opts.Now()) != list { // the list too old: the next batch reads it again
			break
		}
		it := &m.Items[i]
		touched = append(touched, i)
		s.opts.Facts.lists.checked()
		stop, err := s.migrateUser(ctx, &m, i, list)
		if err != nil {
			s.opts.Logger.Error("account sync: a domain migration could not note a user's turn; the next run goes on", "migration_id", m.ID, "error", err.Error())
			break
		}
		if stop != nil {
			// Nobody else could be changed either: the user waits for the
			// next run, the admin is told once.
			m.Blocked = blocked
			return step, s.block(&m, &step, stop, touched)
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
			s.opts.Facts.lists.drop()
			break
		}
	}
	told := m.ToldPercent
	m.ToldPercent = progressTenth(m, told)
	if err := s.opts.Migrations.SaveMigrationItems(m, touched...); err != nil {
		return step, newFailure(CodeInternal, err)
	}
	if m.ToldPercent > told {
		s.tellAdmin(m)
	}
	return step, nil
}

// begun tells a user noted as begun whose change could not be settled.
func begun(m Migration) bool {
	for _, it := range m.Items {
		if it.Status == ItemStarted {
			return true
		}
	}
	return false
}

func (s *Service) saveItems(m Migration, touched []int) *Failure {
	if err := s.opts.Migrations.SaveMigrationItems(m, touched...); err != nil {
		return newFailure(CodeInternal, err)
	}
	return nil
}

// block notes why the run could change nobody, and tells the admin the
// first time; the job tries again.
func (s *Service) block(m *Migration, step *MigrationStep, f *Failure, touched []int) *Failure {
	step.ZulipOut = true
	s.opts.Facts.lists.drop() // Zulip as it is when it answers again
	first := m.Blocked != f.Code
	m.Blocked = f.Code
	s.logFailureKV("account sync: a domain migration cannot go on for now; the next run tries again", f, "migration_id", m.ID)
	if err := s.opts.Migrations.SaveMigrationItems(*m, touched...); err != nil {
		return newFailure(CodeInternal, err)
	}
	if first {
		s.tellAdmin(*m)
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

// budgetFor tells whether Zulip's budget has room, besides the reserve
// left to users' own changes, for a batch of n changes and its list (so
// that a list is never read for a batch of a few users); true while the
// budget is not known.
func (s *Service) budgetFor(n int) bool {
	b, ok := s.zc.(Budget)
	if !ok {
		return true
	}
	remaining, known := b.Budget()
	return !known || remaining > migrationReserve+n
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
func (s *Service) migrateUser(ctx context.Context, m *Migration, i int, list *zulipList) (*Failure, error) {
	it := &m.Items[i]
	target, skip := s.migrationTarget(*it, list)
	if skip != "" {
		it.Status, it.Skip = ItemSkipped, skip
		return nil, nil
	}
	it.Status, it.ChangeID = ItemStarted, newChangeID()
	if err := s.opts.Migrations.SaveMigrationItems(*m, i); err != nil {
		it.Status, it.ChangeID = ItemPending, ""
		return nil, err
	}
	res := s.changeForMigration(ctx, *m, *it, target)
	f := res.Failure
	code := Code("")
	if f != nil {
		code = f.Code
	}
	switch {
	case res.Change.State == StateDone || res.Change.State.Open():
		it.Status, it.Code = itemStatusOf(res.Change.State), res.Change.Code
		if it.Status == ItemWaiting && f != nil {
			it.Code = f.Code // why it waits: Zulip out of reach stops the batch
		}
	case f != nil && nothingKept(res.Change) && (blocksEveryone(f.Code) || f.Code == CodeBusy):
		// Nothing stays changed, for a reason that is not the user's (one
		// that stops everyone, or their own command running): their turn
		// comes again (a new change, a new id).
		it.Status, it.ChangeID, it.Code = ItemPending, "", ""
		if f.Code != CodeBusy {
			return f, nil
		}
	case res.Change.State == StateRefused && migrationSkips[code] != "":
		it.Status, it.Skip, it.ChangeID = ItemSkipped, migrationSkips[code], ""
	case res.Change.State == StateRefused:
		it.Status, it.ChangeID, it.Code = ItemFailed, "", code
	default:
		it.Status, it.Code = itemStatusOf(res.Change.State), res.Change.Code
	}
	return nil, nil
}

// nothingKept tells a change that left Mattermost as it was.
func nothingKept(ch Change) bool {
	return ch.State != StateNeedsAttention && (ch.Mattermost == StatusUntouched || ch.Mattermost == StatusRolledBack)
}

// blocksEveryone tells a cause no user's change can get past (Zulip out of
// reach, the bot's key or permission, a setting, the starter no longer an
// admin, checked before the batch): the run stops and waits for it, the
// users keep their turn.
// Anything else is the one user's: they fail, and the others go on.
func blocksEveryone(c Code) bool {
	switch c {
	case CodeZulipUnavailable, CodeZulipRateLimited, CodeZulipUnauthorized, CodeZulipBotNotAdmin, CodeZulipNoPermission,
		CodeZulipTooOld, CodeZulipRedirect, CodeZulipNotConfigured, CodeDomainsMisconfigured:
		return true
	}
	return false
}

// migrationSkips are the refusals at a user's turn that are skip reasons.
var migrationSkips = map[Code]MigrationSkip{
	CodeChangedMeanwhile:  MigrateSkipChangedMeanwhile,
	CodeChangeOpen:        MigrateSkipOpenChange,
	CodeManagedBySSO:      MigrateSkipSSO,
	CodeUserDeactivated:   MigrateSkipDeactivated,
	CodeTakenInMattermost: MigrateSkipTakenInMattermost,
	CodeLinkChanged:       MigrateSkipLinkChanged,
}

// migrationTarget checks one user against Zulip's list.
func (s *Service) migrationTarget(it MigrationItem, list *zulipList) (zulipTarget, MigrationSkip) {
	l, linked, err := s.opts.Links.Link(it.UserID)
	if err != nil || !linked || l.ZulipUserID != it.ZulipUserID {
		return zulipTarget{}, MigrateSkipLinkChanged
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
	res := Result{Input: it.NewEmail, known: &target, Change: Change{ID: it.ChangeID, UserID: it.UserID, RequestedBy: m.Starter(), Origin: OriginMigration,
		MigrationID: m.ID, NewEmail: it.NewEmail, Mattermost: StatusUntouched, Zulip: s.initialZulipStatus(), CreatedAt: now, UpdatedAt: now}}
	if f := s.domainAllowed(it.NewEmail); f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	unlock, f := s.lockUser(ctx, it.UserID)
	if f != nil {
		return s.refuse(&res, StepValidate, f)
	}
	defer unlock()
	// Read again under the lock: an unlink or a new link since the list.
	if l, linked, err := s.opts.Links.Link(it.UserID); err != nil {
		return s.refuse(&res, StepValidate, newFailure(CodeInternal, err))
	} else if !linked || l.ZulipUserID != it.ZulipUserID {
		return s.refuse(&res, StepValidate, newFailure(CodeLinkChanged, nil))
	}
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
	if out.Change.State != StateRefused && !(out.Failure != nil && blocksEveryone(out.Failure.Code) && nothingKept(out.Change)) {
		s.notifyOnBehalf(out) // not for a try that comes again
	}
	return out
}

// finishMigration ends a migration with no user left: saved, no longer
// under way, then its admin is told.
func (s *Service) finishMigration(m *Migration, step *MigrationStep) *Failure {
	if !m.moveTo(migrationFinish, s.opts.Now()) {
		return nil
	}
	m.ToldPercent, m.Blocked = 100, ""
	if err := s.opts.Migrations.SaveMigration(*m); err != nil {
		return newFailure(CodeInternal, err)
	}
	if err := s.opts.Migrations.ReleaseActiveMigration(m.ID); err != nil {
		return newFailure(CodeInternal, err)
	}
	step.Finished = true
	s.opts.Logger.Info("account sync: domain migration done", "migration_id", m.ID)
	s.tellAdmin(*m)
	return nil
}

// progressTenth is the tenth of the way to tell the admin of: the users
// reached, of those the plan was to change, rounded down to a tenth; told
// when it grew (the end is told when the migration is done).
func progressTenth(m Migration, told int) int {
	total := m.ToChange()
	if total == 0 {
		return told
	}
	reached := (total - m.Progress().Left) * 100 / total
	reached -= reached % 10
	if reached <= told || reached == 100 {
		return told
	}
	return reached
}

func (s *Service) tellAdmin(m Migration) {
	if err := s.opts.Notifier.Notify(m.Starter(), Notice{Kind: NoticeMigration, Migration: m}); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the admin how a domain migration goes", "migration_id", m.ID, "error", err.Error())
	}
}
