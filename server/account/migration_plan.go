package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// ZulipDefaultRatePerMinute is Zulip's default request budget of one bot:
// what a migration's estimate assumes.
const ZulipDefaultRatePerMinute = 200

// zulipRequestsPerChange is what one user's change costs a migration in
// Zulip: the change itself (the checks come from one list per batch).
const zulipRequestsPerChange = 1

// migrationPage is how many Mattermost users a plan reads at a time.
const migrationPage = 200

// PlanMigration computes, for a system admin, the plan of moving every
// Mattermost user whose email has the domain from to the same local part at
// the domain to, and saves it. It changes nothing in either system or in
// the links. Domains match exactly (a subdomain is another domain),
// ignoring case. It reads Zulip's users with one request and Mattermost's
// users page by page, and skips, with the reason, every user the change
// could not be made for.
func (s *Service) PlanMigration(ctx context.Context, adminID, sessionID, from, to string) (Migration, *Failure) {
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return Migration{}, f
	}
	if f := s.noMigrationUnderWay(); f != nil {
		return Migration{}, f
	}
	m, f := s.computePlan(ctx, adminID, from, to)
	if f != nil {
		s.logFailureKV("account sync: a domain migration could not be planned", f, "admin_id", adminID)
		return Migration{}, f
	}
	if f := s.noMigrationUnderWay(); f != nil { // started while this one was computed
		return Migration{}, f
	}
	if err := s.opts.Migrations.SaveMigration(m); err != nil {
		return Migration{}, newFailure(CodeInternal, err)
	}
	s.opts.Logger.Info("account sync: planned a domain migration", "migration_id", m.ID, "admin_id", adminID, "from", m.From, "to", m.To,
		"users", len(m.Items), "to_change", m.ToChange(), "zulip_only", len(m.ZulipOnly))
	if err := s.opts.Notifier.Notify(adminID, Notice{Kind: NoticeMigrationPlan, Migration: m}); err != nil {
		s.opts.Logger.Warn("account sync: could not send the admin the plan of a domain migration", "migration_id", m.ID, "error", err.Error())
	}
	return m, nil
}

// noMigrationUnderWay refuses a new plan while a migration runs or is
// paused: one migration at a time.
func (s *Service) noMigrationUnderWay() *Failure {
	id, ok, err := s.opts.Migrations.ActiveMigration()
	if err != nil {
		return newFailure(CodeInternal, err)
	}
	if !ok {
		return nil
	}
	m, f := s.readMigration(id)
	if f != nil {
		return f
	}
	if m.State == MigrationRunning || m.State == MigrationPaused {
		f := newFailure(CodeMigrationState, errors.New("another migration is under way"))
		f.Detail = string(m.State)
		return f
	}
	return nil
}

// computePlan is a migration's plan, not saved.
func (s *Service) computePlan(ctx context.Context, adminID, from, to string) (Migration, *Failure) {
	from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
	switch {
	case !ValidDomain(from) || !ValidDomain(to):
		return Migration{}, newFailure(CodeMigrationDomain, fmt.Errorf("not domains: %q, %q", from, to))
	case from == to:
		return Migration{}, newFailure(CodeMigrationDomain, errors.New("the same domain twice"))
	}
	if f := s.linkable(); f != nil {
		return Migration{}, f
	}
	if f := s.domainAllowed("x@" + to); f != nil {
		return Migration{}, f
	}
	p, f := s.readForPlan(ctx)
	if f != nil {
		return Migration{}, f
	}
	m := Migration{ID: newChangeID(), From: from, To: to, State: MigrationPlanned, CreatedBy: adminID, CreatedAt: s.opts.Now().UTC(),
		Verification: s.mm.RequiresEmailVerification(), RatePerMinute: ZulipDefaultRatePerMinute, RequestsPerUser: zulipRequestsPerChange}
	seen := map[string]bool{} // a user created or renamed meanwhile shifts the pages: each is listed once
	for page := 0; ; page++ {
		users, err := s.mm.ListUsers(page, migrationPage)
		if err != nil {
			return Migration{}, newFailure(CodeMattermostFailed, fmt.Errorf("listing Mattermost users, page %d: %w", page, err))
		}
		for i := range users {
			if seen[users[i].ID] {
				continue
			}
			seen[users[i].ID] = true
			if f := s.planUser(p, &m, &users[i]); f != nil {
				return Migration{}, f
			}
		}
		if len(users) < migrationPage {
			break
		}
	}
	p.finish(&m)
	m.Estimate = time.Duration(m.ToChange()*m.RequestsPerUser) * time.Minute / time.Duration(m.RatePerMinute)
	return m, nil
}

// Migration returns a migration, for a system admin.
func (s *Service) Migration(adminID, sessionID, id string) (Migration, *Failure) {
	if id == "" {
		return Migration{}, newFailure(CodeMigrationNotFound, nil)
	}
	return s.MigrationOf(adminID, sessionID, id)
}

// planRead is what a plan reads of Zulip and the open changes, and what it
// learns of Mattermost on the way.
type planRead struct {
	byID   map[int]zulip.User
	byAddr map[string]int // real address, lower case -> Zulip user id
	open   map[string]bool
	// mmEmails are every Mattermost user's email (lower case) -> user id,
	// to tell a new address another user has; linked the Zulip accounts
	// linked to somebody.
	mmEmails map[string]string
	linked   map[int]bool
	// unlinked are the users skipped as not linked whose email is an
	// active human Zulip account's: link-all links them unless somebody
	// else is linked to it (known once every user was read).
	unlinked []int
}

func (s *Service) readForPlan(ctx context.Context) (*planRead, *Failure) {
	open, err := s.opts.Recorder.OpenChanges()
	if err != nil {
		return nil, newFailure(CodeInternal, fmt.Errorf("reading the open changes: %w", err))
	}
	zctx, cancel := context.WithTimeout(ctx, driftTimeout)
	members, err := s.zc.Users(zctx)
	cancel()
	if err != nil {
		return nil, zulipFailure(err, CodeZulipRejected)
	}
	p := &planRead{byID: make(map[int]zulip.User, len(members)), byAddr: make(map[string]int, len(members)), open: map[string]bool{},
		mmEmails: map[string]string{}, linked: map[int]bool{}}
	for _, m := range members {
		p.byID[m.ID] = m
		if a := m.RealAddress(); a != "" {
			p.byAddr[strings.ToLower(a)] = m.ID
		}
	}
	for _, o := range open {
		p.open[o.UserID] = true
	}
	return p, nil
}

// planUser adds the user to the plan when their email has the old domain,
// with the reason it is skipped if it is.
func (s *Service) planUser(p *planRead, m *Migration, u *User) *Failure {
	email := strings.ToLower(u.Email)
	p.mmEmails[email] = u.ID
	l, linked, err := s.opts.Links.Link(u.ID)
	if err != nil {
		return newFailure(CodeInternal, fmt.Errorf("reading the link of %s: %w", u.ID, err))
	}
	if linked {
		p.linked[l.ZulipUserID] = true
	}
	at := strings.LastIndexByte(email, '@')
	if u.IsBot || at < 0 || email[at+1:] != m.From {
		return nil
	}
	it := MigrationItem{UserID: u.ID, Username: u.Username, OldEmail: u.Email, NewEmail: email[:at+1] + m.To}
	if linked {
		it.ZulipUserID = l.ZulipUserID
	}
	it.Skip = s.planSkip(p, u, it, linked)
	if it.Skip == MigrateSkipNotLinked {
		if id, ok := p.byAddr[email]; ok && u.EmailVerified && activeHuman(ptr(p.byID[id])) {
			p.unlinked = append(p.unlinked, id)
		}
	}
	m.Items = append(m.Items, it)
	return nil
}

// planSkip is why the user's change could not be made, or "".
func (s *Service) planSkip(p *planRead, u *User, it MigrationItem, linked bool) MigrationSkip {
	switch {
	case u.Deactivated:
		return MigrateSkipDeactivated
	case u.AuthService != "":
		return MigrateSkipSSO
	case p.open[u.ID]:
		return MigrateSkipOpenChange
	case !linked:
		return MigrateSkipNotLinked
	}
	if addr, err := NormalizeAddress(it.NewEmail, s.mm.ValidEmail); err != nil || isZulipDummyAddress(addr, s.opts.ZulipHost) {
		return MigrateSkipAddressRefused
	}
	zu, ok := p.byID[it.ZulipUserID]
	switch {
	case !ok || !activeHuman(&zu):
		return MigrateSkipZulipInactive
	case !strings.EqualFold(zu.RealAddress(), u.Email):
		return MigrateSkipZulipDiffers
	}
	if id, ok := p.byAddr[it.NewEmail]; ok && id != it.ZulipUserID {
		return MigrateSkipTakenInZulip
	}
	return ""
}

// finish marks the new addresses another Mattermost user has, counts the
// users link-all would link, and lists the Zulip accounts with the old
// domain that no Mattermost user has.
func (p *planRead) finish(m *Migration) {
	for i := range m.Items {
		it := &m.Items[i]
		if other, ok := p.mmEmails[it.NewEmail]; ok && other != it.UserID && it.Skip == "" {
			it.Skip = MigrateSkipTakenInMattermost
		}
	}
	for _, id := range p.unlinked {
		if !p.linked[id] {
			m.WouldLink++
		}
	}
	for id, zu := range p.byID {
		a := strings.ToLower(zu.RealAddress())
		if !activeHuman(&zu) || p.linked[id] || !strings.HasSuffix(a, "@"+m.From) {
			continue
		}
		if _, has := p.mmEmails[a]; !has {
			m.ZulipOnly = append(m.ZulipOnly, ZulipOnlyAccount{ZulipUserID: id, Email: zu.RealAddress()})
		}
	}
	sortZulipOnly(m.ZulipOnly)
}

func ptr[T any](v T) *T { return &v }
