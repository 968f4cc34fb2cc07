package account

import (
	"cmp"
	"slices"
	"time"
)

// This file is what a domain migration is: a plan of every user whose
// address has the old domain, each to be changed or skipped with a reason.

// MigrationState is where a domain migration stands.
type MigrationState string

// The states of a migration.
const (
	// MigrationPlanned: computed, nothing changed; an admin reads it first.
	MigrationPlanned MigrationState = "planned"
	// MigrationRunning: the job changes its users, a few at a time.
	MigrationRunning MigrationState = "running"
	// MigrationPaused: an admin paused it; nothing more is changed until resumed.
	MigrationPaused MigrationState = "paused"
	// MigrationCancelled: an admin cancelled it; what was done stays done.
	MigrationCancelled MigrationState = "cancelled"
	// MigrationDone: every user was changed, skipped or failed (changes
	// waiting for a confirmation link go on as their own).
	MigrationDone MigrationState = "done"
)

// migrationMoves is every move a migration may make, by action; only
// Migration.moveTo writes its state.
var migrationMoves = map[MigrationAction]struct {
	from []MigrationState
	to   MigrationState
}{
	MigrationStart:  {from: []MigrationState{MigrationPlanned}, to: MigrationRunning},
	MigrationPause:  {from: []MigrationState{MigrationRunning}, to: MigrationPaused},
	MigrationResume: {from: []MigrationState{MigrationPaused}, to: MigrationRunning},
	MigrationCancel: {from: []MigrationState{MigrationPlanned, MigrationRunning, MigrationPaused}, to: MigrationCancelled},
	migrationFinish: {from: []MigrationState{MigrationRunning}, to: MigrationDone},
}

// MigrationAction is what an admin (or the job, at the end) does to a
// migration.
type MigrationAction string

// The actions on a migration.
const (
	MigrationStart  MigrationAction = "start"
	MigrationPause  MigrationAction = "pause"
	MigrationResume MigrationAction = "resume"
	MigrationCancel MigrationAction = "cancel"
	migrationFinish MigrationAction = "finish" // the job, when no user is left
)

// moveTo makes the action's move, or refuses it (the state stays).
func (m *Migration) moveTo(a MigrationAction, now time.Time) bool {
	mv, ok := migrationMoves[a]
	if !ok || !slices.Contains(mv.from, m.State) {
		return false
	}
	m.State = mv.to
	t := now.UTC()
	switch mv.to {
	case MigrationRunning:
		if m.StartedAt == nil {
			m.StartedAt = &t
		}
	case MigrationCancelled, MigrationDone:
		m.EndedAt = &t
	}
	return true
}

// ItemStatus is where one user of a migration stands.
type ItemStatus string

// Where a user of a migration stands.
const (
	ItemPending ItemStatus = ""        // not reached yet
	ItemStarted ItemStatus = "started" // its change was begun (ChangeID); how it ended is read from the change
	ItemDone    ItemStatus = "done"    // changed in both systems
	ItemWaiting ItemStatus = "waiting" // its change goes on by itself: a confirmation link, or Zulip busy
	ItemFailed  ItemStatus = "failed"  // refused or failed; Code says why
	ItemSkipped ItemStatus = "skipped" // left out by the plan (Skip) or when its turn came
)

// MigrationSkip is why a migration leaves a user out; the edge words it.
type MigrationSkip string

// Why a migration leaves a user out.
const (
	MigrateSkipDeactivated       MigrationSkip = "deactivated"         // deactivated in Mattermost
	MigrateSkipSSO               MigrationSkip = "sso"                 // an SSO or LDAP user: the directory owns the address
	MigrateSkipNotLinked         MigrationSkip = "not_linked"          // no link to a Zulip account
	MigrateSkipOpenChange        MigrationSkip = "open_change"         // a change of theirs is in progress
	MigrateSkipTakenInMattermost MigrationSkip = "taken_in_mattermost" // another Mattermost user has the new address
	MigrateSkipTakenInZulip      MigrationSkip = "taken_in_zulip"      // another Zulip account has the new address
	MigrateSkipZulipInactive     MigrationSkip = "zulip_inactive"      // the linked Zulip account is deactivated, deleted or a bot
	MigrateSkipZulipDiffers      MigrationSkip = "zulip_differs"       // the linked Zulip account has another address, or hides it
	MigrateSkipAddressRefused    MigrationSkip = "address_refused"     // the new address is one Mattermost or Zulip would refuse
	MigrateSkipChangedMeanwhile  MigrationSkip = "changed_meanwhile"   // the Mattermost email changed between the plan and the user's turn
	MigrateSkipLinkChanged       MigrationSkip = "link_changed"        // linked to another Zulip account, or unlinked, since the plan
)

// MigrationSkips lists every reason, in the order the plan shows them.
func MigrationSkips() []MigrationSkip {
	return []MigrationSkip{MigrateSkipTakenInMattermost, MigrateSkipTakenInZulip, MigrateSkipSSO, MigrateSkipNotLinked, MigrateSkipDeactivated,
		MigrateSkipOpenChange, MigrateSkipZulipInactive, MigrateSkipZulipDiffers, MigrateSkipAddressRefused, MigrateSkipChangedMeanwhile, MigrateSkipLinkChanged}
}

// MigrationItem is one Mattermost user whose email has the old domain.
type MigrationItem struct {
	UserID      string        `json:"user_id"`
	Username    string        `json:"username"`
	OldEmail    string        `json:"old_email"`
	NewEmail    string        `json:"new_email"`
	ZulipUserID int           `json:"zulip_user_id,omitempty"`
	Skip        MigrationSkip `json:"skip,omitempty"` // empty: to be changed
	Status      ItemStatus    `json:"status,omitempty"`
	ChangeID    string        `json:"change_id,omitempty"` // its change record, once begun
	Code        Code          `json:"code,omitempty"`      // why it failed
}

// ZulipOnlyAccount is a Zulip account with the old domain that no
// Mattermost user has: listed by the plan, never touched.
type ZulipOnlyAccount struct {
	ZulipUserID int    `json:"zulip_user_id"`
	Email       string `json:"email"`
}

// Migration is a domain migration: every user whose email has the domain
// From, to be moved to the same local part at To.
type Migration struct {
	ID        string             `json:"id"`
	From      string             `json:"from"`
	To        string             `json:"to"`
	State     MigrationState     `json:"state"`
	CreatedBy string             `json:"created_by"`
	CreatedAt time.Time          `json:"created_at"`
	Items     []MigrationItem    `json:"items"`
	ZulipOnly []ZulipOnlyAccount `json:"zulip_only,omitempty"`
	// WouldLink counts the users skipped as not linked whom /account
	// link-all would link.
	WouldLink int `json:"would_link"`
	// Verification: Mattermost requires email verification, so each user
	// gets a link at the new address and their change waits for it.
	Verification bool `json:"verification"`
	// RatePerMinute is Zulip's request budget the estimate assumes;
	// Estimate is how long the changes take at it (one request each).
	RatePerMinute int           `json:"rate_per_minute"`
	Estimate      time.Duration `json:"estimate_ns"`
	// RequestsPerUser is the Zulip requests one user's change makes.
	RequestsPerUser int `json:"requests_per_user"`

	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// ToldPercent is the last tenth of the way the admin was told of.
	ToldPercent int `json:"told_percent,omitempty"`
	// StartedBy is the admin who started it: its changes are asked in
	// their name, and they are told how it goes.
	StartedBy string `json:"started_by,omitempty"`
	// Blocked is why the last run could change nobody: Zulip out of reach
	// (it goes on by itself), or something only an admin can fix (the
	// bot's key or permission, a setting, the starter no longer an admin).
	// The job tries again; the admin is told once.
	Blocked Code `json:"blocked,omitempty"`
}

// Starter is who the migration's changes are made for: the admin who
// started it (the planner for a migration saved before StartedBy).
func (m Migration) Starter() string {
	if m.StartedBy != "" {
		return m.StartedBy
	}
	return m.CreatedBy
}

// MigrationProgress counts a migration's users by where they stand.
type MigrationProgress struct {
	Done    int `json:"done"`
	Waiting int `json:"waiting"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Left    int `json:"left"`
}

// Progress counts the users by where they stand.
func (m Migration) Progress() MigrationProgress {
	var p MigrationProgress
	for _, it := range m.Items {
		switch {
		case it.Skip != "" || it.Status == ItemSkipped:
			p.Skipped++
		case it.Status == ItemDone:
			p.Done++
		case it.Status == ItemWaiting:
			p.Waiting++
		case it.Status == ItemFailed:
			p.Failed++
		default:
			p.Left++
		}
	}
	return p
}

// ToChange counts the users the migration changes.
func (m Migration) ToChange() int {
	n := 0
	for _, it := range m.Items {
		if it.Skip == "" {
			n++
		}
	}
	return n
}

// Skipped counts the users left out, by reason.
func (m Migration) Skipped() map[MigrationSkip]int {
	out := map[MigrationSkip]int{}
	for _, it := range m.Items {
		if it.Skip != "" {
			out[it.Skip]++
		}
	}
	return out
}

// Migrations keeps domain migrations.
type Migrations interface {
	// SaveMigration stores m under its ID; a plan becomes the latest
	// migration.
	SaveMigration(m Migration) error
	// Migration returns the migration with id; ok is false when there is none.
	Migration(id string) (m Migration, ok bool, err error)
	// SaveMigrationItems stores m's head and the users at the given
	// indexes (with their neighbours in the same chunk), not the others.
	SaveMigrationItems(m Migration, indexes ...int) error
	// LatestMigration returns the ID of the migration planned last.
	LatestMigration() (id string, ok bool, err error)
	// ActiveMigration returns the ID of the migration under way (started,
	// not finished nor cancelled): the one the job carries on.
	ActiveMigration() (id string, ok bool, err error)
	// ClaimActiveMigration makes id the migration under way if none is,
	// atomically; ok is false when another one is.
	ClaimActiveMigration(id string) (ok bool, err error)
	// ReleaseActiveMigration clears the migration under way if it is id.
	ReleaseActiveMigration(id string) error
}

func sortZulipOnly(z []ZulipOnlyAccount) {
	slices.SortFunc(z, func(a, b ZulipOnlyAccount) int { return cmp.Compare(a.ZulipUserID, b.ZulipUserID) })
}
