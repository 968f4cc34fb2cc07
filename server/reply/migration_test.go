package reply

import (
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Every skip reason has its text.
func TestEveryMigrationSkipHasAText(t *testing.T) {
	for _, s := range account.MigrationSkips() {
		if MigrationSkipText(s) == "" {
			t.Errorf("no text for %s", s)
		}
	}
	if len(migrationSkipTexts) != len(account.MigrationSkips()) {
		t.Errorf("%d texts for %d reasons", len(migrationSkipTexts), len(account.MigrationSkips()))
	}
	if MigrationSkipText("") != "" {
		t.Error("a user to change has a skip text")
	}
}

// The plan says who would change, who is skipped and why, what users
// would receive, how long it takes, and that nothing was changed.
func TestMigrationPlanText(t *testing.T) {
	m := account.Migration{ID: "m1", From: "old.example", To: "new.example", RatePerMinute: 200, RequestsPerUser: 1, Estimate: 90 * time.Second, WouldLink: 1,
		Items: []account.MigrationItem{
			{UserID: "a"}, {UserID: "b"}, {UserID: "c", Skip: account.MigrateSkipTakenInZulip}, {UserID: "d", Skip: account.MigrateSkipNotLinked},
		},
		ZulipOnly: []account.ZulipOnlyAccount{{ZulipUserID: 9, Email: "z@old.example"}}}
	assertWords(t, MigrationPlan(m, "http://mm/plugins/account-sync/api/v1/migrations/m1"), []string{
		"from `old.example` to `new.example` (id `m1`). Nothing has been changed.",
		"**2 users would change**", "moves to `new.example`",
		"**Skipped, 1**: the new address already belongs to another Zulip account", "**Skipped, 1**: not linked to a Zulip account: run `/account link-all` first",
		"`/account link-all` would link 1 of the users not linked", "1 Zulip account at `old.example` with no Mattermost user: not touched",
		"Mattermost tells each old address", "about 90 seconds at Zulip's default rate limit of 200 requests a minute (1 request per user",
		"press **Start the migration**", "`/account migrate start`", "http://mm/plugins/account-sync/api/v1/migrations/m1",
	}, []string{"confirmation link", "Skipped, 0"})
	m.Verification, m.Estimate = true, 50*time.Minute
	assertWords(t, MigrationPlan(m, "u"), []string{"each user gets a confirmation link at the new address", "about 50 minutes"}, nil)
	m.Estimate = 150 * time.Minute
	assertWords(t, MigrationPlan(m, "u"), []string{"about 2 hours 30 minutes"}, nil)
	empty := account.Migration{ID: "m2", From: "old.example", To: "new.example", RatePerMinute: 200}
	assertWords(t, MigrationPlan(empty, "u"), []string{"No Mattermost user has an email at `old.example`"}, []string{"would change", "Time"})
	assertWords(t, MigrationSummary(m), []string{"Plan to move 4 users at `old.example` to `new.example`: 2 to change, 2 skipped. Nothing has been changed."}, nil)
}

// A cancel promises only what holds: what was done stays done.
func TestMigrationCancelWords(t *testing.T) {
	m := account.Migration{ID: "m1", From: "old.example", To: "new.example", State: account.MigrationCancelled}
	assertWords(t, MigrationMoved(m, account.MigrationCancel, false, time.Now()), []string{"cancelled", "What was done stays done"}, []string{"undo"})
	assertWords(t, Failure(&account.Failure{Code: account.CodeMigrationBusy}), []string{"in the middle of a batch", "Try again"}, []string{"your email"})
	blocked := account.Migration{ID: "m1", From: "old.example", To: "new.example", State: account.MigrationRunning, Blocked: account.CodeZulipNoPermission,
		Items: []account.MigrationItem{{UserID: "a"}}, RatePerMinute: 200, RequestsPerUser: 1}
	assertWords(t, MigrationStatus(blocked, time.Now()), []string{"blocked until then: the Zulip bot may not change emails"}, []string{"should end", "your email"})
	assertWords(t, MigrationNotice(blocked), []string{"blocked", "Nobody more is changed"}, nil)
	down := blocked
	down.Blocked = account.CodeZulipUnavailable
	assertWords(t, MigrationStatus(down, time.Now()), []string{"waiting for Zulip (it goes on by itself)"}, nil)
}
