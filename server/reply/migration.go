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
	account.MigrateSkipLinkChanged:       "the user was unlinked, or linked to another Zulip account, after the plan: change them by hand if need be",
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
		fmt.Fprintf(&b, "- **Time**: about %s at Zulip's default rate limit of %d requests a minute (%s per user, the checks coming from one list per batch).\n", durationText(m.Estimate), m.RatePerMinute, plural(m.RequestsPerUser, "1 request", fmt.Sprintf("%d requests", m.RequestsPerUser)))
	}
	if n > 0 {
		b.WriteString("To run it: press **" + MigrationStartButton + "** in your direct message from Account Sync, or type `/account migrate start`. " +
			"It can be paused, resumed and cancelled (`/account migrate pause|resume|cancel`); what is done stays done. ")
	}
	b.WriteString("The whole plan, user by user: " + url + " (JSON).")
	return b.String()
}

// MigrationStarted replaces the plan's message once its button started it.
func MigrationStarted(m account.Migration) string {
	return fmt.Sprintf("The domain migration from %s to %s (id %s) was started. `/account migrate status` shows where it stands.", code(m.From), code(m.To), code(m.ID))
}

// MigrationStartButton is the name of the plan's button that starts it.
const MigrationStartButton = "Start the migration"

// MigrationStatus says where a migration stands: its state, its users by
// where they stand, and when it should end.
func MigrationStatus(m account.Migration, now time.Time) string {
	p := m.Progress()
	var b strings.Builder
	fmt.Fprintf(&b, "**Domain migration** from %s to %s (id %s): **%s**", code(m.From), code(m.To), code(m.ID), migrationStateText(m))
	fmt.Fprintf(&b, ". Users: %d done, %d waiting (for a confirmation link, or for Zulip), %d failed, %d skipped, %d left.", p.Done, p.Waiting, p.Failed, p.Skipped, p.Left)
	if m.State == account.MigrationRunning && p.Left > 0 && m.Blocked == "" {
		left := time.Duration(p.Left*m.RequestsPerUser) * time.Minute / time.Duration(max(m.RatePerMinute, 1))
		fmt.Fprintf(&b, " At about %d users a minute, it should end around %s UTC.", max(m.RatePerMinute/max(m.RequestsPerUser, 1), 1), utc(now.Add(left)))
	}
	return b.String()
}

// migrationBlockedTexts say, to the admin, what stops a migration and what
// to do; a cause not listed is worded by its code.
var migrationBlockedTexts = map[account.Code]string{
	account.CodeZulipUnauthorized:    "Zulip refuses the bot's API key: fix the Zulip settings of Account Sync (`/account zulip check` says what is wrong)",
	account.CodeZulipBotNotAdmin:     "the Zulip bot may not change emails: give it that permission in Zulip (`/account zulip check` says how)",
	account.CodeZulipNoPermission:    "the Zulip bot may not change emails: give it that permission in Zulip (`/account zulip check` says how)",
	account.CodeZulipTooOld:          "this Zulip server cannot change emails through its API: upgrade it",
	account.CodeZulipRedirect:        "the Zulip site URL redirects: set it to the final address in the plugin's settings",
	account.CodeZulipNotConfigured:   "Zulip sync is not set up: complete the plugin's Zulip settings",
	account.CodeDomainsMisconfigured: "the plugin's allowed email domains setting holds entries that are not domains: fix it",
	account.CodeAdminOnly:            "the admin who started it is no longer a system admin: another system admin types `/account migrate resume` to carry it on in their name",
}

func migrationStateText(m account.Migration) string {
	switch {
	case m.State == account.MigrationRunning && m.Blocked == account.CodeZulipUnavailable, m.State == account.MigrationRunning && m.Blocked == account.CodeZulipRateLimited:
		return "waiting for Zulip (it goes on by itself)"
	case m.State == account.MigrationRunning && m.Blocked != "":
		why, ok := migrationBlockedTexts[m.Blocked]
		if !ok {
			why = "a cause only an administrator can fix (the server log has it, code " + code(string(m.Blocked)) + ")"
		}
		return "blocked until then: " + why
	case m.State == account.MigrationPlanned:
		return "planned, not started"
	default:
		return string(m.State)
	}
}

// MigrationMoved is the reply to an admin's start, pause, resume or cancel.
func MigrationMoved(m account.Migration, a account.MigrationAction, replanned bool, now time.Time) string {
	var text string
	switch a {
	case account.MigrationStart:
		text = "The domain migration started."
		if replanned {
			text += fmt.Sprintf(" Its plan was computed again first (it was over an hour old, or its counts no longer held): %d users to change.", m.ToChange())
		}
		text += " You get a direct message each tenth of the way and at the end."
	case account.MigrationPause:
		text = "The domain migration is paused: nobody more is changed until you resume it (`/account migrate resume`)."
	case account.MigrationResume:
		text = "The domain migration goes on."
	case account.MigrationCancel:
		text = "The domain migration is cancelled: nobody more is changed. What was done stays done; the report lists who was changed."
	}
	return text + " " + MigrationStatus(m, now)
}

// MigrationNotice is the bot's message to the admin who started a
// migration: each tenth of the way, and at its end.
func MigrationNotice(m account.Migration) string {
	p := m.Progress()
	if m.State == account.MigrationRunning && m.Blocked != "" {
		return fmt.Sprintf("The domain migration from %s to %s is %s. Nobody more is changed until then; it goes on by itself afterwards. %d changed so far, %d left.",
			code(m.From), code(m.To), migrationStateText(m), p.Done+p.Waiting, p.Left)
	}
	if m.State == account.MigrationDone {
		return fmt.Sprintf("The domain migration from %s to %s (id %s) is **done**: %d changed, %d waiting for a confirmation link or for Zulip, %d failed, %d skipped. "+
			"`/account migrate status` shows it; the report, user by user: `GET /plugins/account-sync/api/v1/migrations/%s/report.csv`.",
			code(m.From), code(m.To), code(m.ID), p.Done, p.Waiting, p.Failed, p.Skipped, m.ID)
	}
	return fmt.Sprintf("The domain migration from %s to %s is %d%% of the way: %d changed, %d waiting, %d failed, %d skipped, %d left.",
		code(m.From), code(m.To), m.ToldPercent, p.Done, p.Waiting, p.Failed, p.Skipped, p.Left)
}

// MigrationOutcome words where one user of a migration stands, for the
// report.
func MigrationOutcome(it account.MigrationItem) (outcome, reason string) {
	switch {
	case it.Skip != "":
		return "skipped", migrationSkipTexts[it.Skip]
	case it.Status == account.ItemDone:
		return "done", ""
	case it.Status == account.ItemWaiting:
		return "waiting", "waits for the confirmation link sent to the new address, or for Zulip"
	case it.Status == account.ItemFailed:
		return "failed", strings.TrimSpace(Failure(&account.Failure{Code: it.Code}))
	default:
		return "left", "not reached"
	}
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
