package reply

import (
	"fmt"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// migrationSkipTexts words why a domain migration leaves a user out, and
// what to do about it.
var migrationSkipTexts = map[account.MigrationSkip]string{
	account.MigrateSkipTakenInMattermost: "the new address already belongs to another Mattermost user: free it, or change this user by hand",
	account.MigrateSkipTakenInZulip:      "the new address already belongs to another Zulip account: free it in Zulip, or change this user by hand",
	account.MigrateSkipSSO:               "an SSO or LDAP user: the directory owns the address; change it there (the next sign-in brings it, and Zulip follows)",
	account.MigrateSkipNotLinked:         "not linked to a Zulip account: run `/account link-all` first, or the user links with `/account link`",
	account.MigrateSkipDeactivated:       "deactivated in Mattermost",
	account.MigrateSkipOpenChange:        "an email change of theirs is in progress: plan again once it has ended",
	account.MigrateSkipZulipInactive:     "the linked Zulip account is deactivated, deleted or a bot",
	account.MigrateSkipZulipDiffers:      "the linked Zulip account has another address (see `/account drift`)",
	account.MigrateSkipAddressRefused:    "Mattermost or Zulip would refuse the new address (too long, or not allowed)",
	account.MigrateSkipChangedMeanwhile:  "the Mattermost email changed between the plan and the user's turn: left as it is now",
}

// MigrationSkipText words a skip reason; "" for a user to be changed.
func MigrationSkipText(s account.MigrationSkip) string { return migrationSkipTexts[s] }

// MigrationSummary is a plan's counts in one sentence, for the HTTP API.
func MigrationSummary(m account.Migration) string {
	return fmt.Sprintf("Plan to move %s at %s to %s: %d to change, %d skipped. Nothing has been changed.",
		plural(len(m.Items), "1 user", fmt.Sprintf("%d users", len(m.Items))), code(m.From), code(m.To), m.ToChange(), len(m.Items)-m.ToChange())
}

// MigrationPlan is the reply to /account migrate-domain: who would change,
// who is skipped and why, what users would receive, how long it would
// take, and where the whole plan is.
func MigrationPlan(m account.Migration, url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Domain migration plan** from %s to %s (id %s). Nothing has been changed.\n", code(m.From), code(m.To), code(m.ID))
	if len(m.Items) == 0 {
		fmt.Fprintf(&b, "- No Mattermost user has an email at %s.\n", code(m.From))
	}
	n := m.ToChange()
	if n > 0 {
		fmt.Fprintf(&b, "- **%s would change**: each email keeps its name and moves to %s, in Mattermost and in the linked Zulip account.\n",
			plural(n, "1 user", fmt.Sprintf("%d users", n)), code(m.To))
	}
	skipped := m.Skipped()
	for _, s := range account.MigrationSkips() {
		if k := skipped[s]; k > 0 {
			fmt.Fprintf(&b, "- **Skipped, %d**: %s.\n", k, migrationSkipTexts[s])
		}
	}
	if m.WouldLink > 0 {
		fmt.Fprintf(&b, "- `/account link-all` would link %d of the users not linked.\n", m.WouldLink)
	}
	if z := len(m.ZulipOnly); z > 0 {
		fmt.Fprintf(&b, "- %s at %s with no Mattermost user: not touched.\n", plural(z, "1 Zulip account", fmt.Sprintf("%d Zulip accounts", z)), code(m.From))
	}
	if n > 0 {
		if m.Verification {
			b.WriteString("- **What users would receive**: Mattermost requires email verification, so each user gets a confirmation link at the new address, and their change waits for it; Zulip follows as each link is opened. Mattermost also tells the old address.\n")
		} else {
			b.WriteString("- **What users would receive**: Mattermost tells each old address about the change (when email notifications are on), and the bot sends each user a direct message.\n")
		}
		fmt.Fprintf(&b, "- **Time**: about %s at Zulip's default rate limit of %d requests a minute (%d requests per user).\n", durationText(m.Estimate), m.RatePerMinute, m.RequestsPerUser)
	}
	b.WriteString("Running a migration is not part of this version yet: this plan shows what it would do. The whole plan, user by user: " + url + " (JSON).")
	return b.String()
}

// durationText is d rounded for a reader: seconds under two minutes, then
// minutes, then hours and minutes.
func durationText(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		s := int(d.Seconds() + 0.999)
		return plural(s, "1 second", fmt.Sprintf("%d seconds", s))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()+0.5))
	default:
		return fmt.Sprintf("%d hours %d minutes", int(d.Hours()), int(d.Minutes())%60)
	}
}
