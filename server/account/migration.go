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
)

// MigrationSkips lists every reason, in the order the plan shows them.
func MigrationSkips() []MigrationSkip {
	return []MigrationSkip{MigrateSkipTakenInMattermost, MigrateSkipTakenInZulip, MigrateSkipSSO, MigrateSkipNotLinked, MigrateSkipDeactivated,
		MigrateSkipOpenChange, MigrateSkipZulipInactive, MigrateSkipZulipDiffers, MigrateSkipAddressRefused}
}

// MigrationItem is one Mattermost user whose email has the old domain.
type MigrationItem struct {
	UserID      string        `json:"user_id"`
	Username    string        `json:"username"`
	OldEmail    string        `json:"old_email"`
	NewEmail    string        `json:"new_email"`
	ZulipUserID int           `json:"zulip_user_id,omitempty"`
	Skip        MigrationSkip `json:"skip,omitempty"` // empty: to be changed
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
	// SaveMigration stores m under its ID.
	SaveMigration(m Migration) error
	// Migration returns the migration with id; ok is false when there is none.
	Migration(id string) (m Migration, ok bool, err error)
}

func sortZulipOnly(z []ZulipOnlyAccount) {
	slices.SortFunc(z, func(a, b ZulipOnlyAccount) int { return cmp.Compare(a.ZulipUserID, b.ZulipUserID) })
}
