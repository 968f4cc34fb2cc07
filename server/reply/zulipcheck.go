package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// findingTexts words each finding of /account zulip check from its line's
// facts. TestEveryFindingHasAText ranges over account.Findings().
var findingTexts = map[account.Finding]func(l account.CheckLine) string{
	account.FindingDomainsInvalid: domainsInvalidText,
	account.FindingSyncOff: func(account.CheckLine) string {
		return "Zulip sync is turned off: only Mattermost changes. Turn on **Sync email changes to Zulip** (System Console > Plugins > Account Sync) to use Zulip."
	},
	account.FindingSettingsBroken: func(l account.CheckLine) string {
		return fmt.Sprintf("The Zulip settings cannot work: %s. Fix them in System Console > Plugins > Account Sync.", l.Detail)
	},
	account.FindingSettingsComplete: func(account.CheckLine) string { return "The settings are complete." },
	account.FindingRedirect: func(l account.CheckLine) string {
		return fmt.Sprintf("Zulip answered with a redirect to %s: set the Zulip site URL to the final address (redirects are never followed, so the bot's key never travels elsewhere).", code(l.Detail))
	},
	account.FindingUnreachable: func(account.CheckLine) string {
		return "Zulip could not be reached or did not answer in time: check the Zulip site URL and that the Mattermost server can reach it. Details are in the server log."
	},
	account.FindingRefused: func(account.CheckLine) string {
		return "Zulip refused the request: check the Zulip site URL (it must be the organization's address). Details are in the server log."
	},
	account.FindingTooOld: func(l account.CheckLine) string {
		return fmt.Sprintf("Zulip %s (feature level %d) is too old: changing emails through the API needs Zulip 10.0 (feature level %d) or later. Upgrade Zulip, or turn sync off.",
			code(l.Version), l.Level, zulip.MinEmailChangeFeatureLevel)
	},
	account.FindingReached: func(l account.CheckLine) string {
		return fmt.Sprintf("Reached Zulip %s (feature level %d).", code(l.Version), l.Level)
	},
	account.FindingBadCredentials: func(account.CheckLine) string {
		return "Zulip did not accept the bot email and API key (or the bot is deactivated). Copy both again from Zulip's *Settings > Personal settings > Bots*."
	},
	account.FindingSignedIn: func(l account.CheckLine) string { return fmt.Sprintf("Signed in to Zulip as %s.", code(l.Detail)) },
	account.FindingRoleTooLow: func(l account.CheckLine) string {
		return fmt.Sprintf("The bot's role is %s: an organization owner must give it the **Administrator** or **Owner** role (*Organization settings > Bots*, edit the bot, *Role*).", roleName(l.Role))
	},
	account.FindingRoleOK: func(l account.CheckLine) string { return fmt.Sprintf("The bot's role is %s.", roleName(l.Role)) },
	account.FindingMayChangeEmails: func(account.CheckLine) string {
		return "The bot may change users' emails (checked with a change of its own address to itself, which changes nothing)."
	},
	account.FindingNoEmailPermission: func(l account.CheckLine) string {
		return fmt.Sprintf("The bot lacks Zulip's permission to change emails. A Zulip server administrator runs, on the Zulip server: `./manage.py change_user_role %s can_change_user_emails -r <realm>` (the realm is the organization's subdomain; empty for the root domain).", l.Detail)
	},
	account.FindingNotUserAdmin: func(account.CheckLine) string {
		return "Zulip says the bot may not administer users: give it the **Administrator** or **Owner** role."
	},
	account.FindingEmailIgnored: func(account.CheckLine) string {
		return fmt.Sprintf("This Zulip ignores email changes through the API: it needs Zulip 10.0 (feature level %d) or later.", zulip.MinEmailChangeFeatureLevel)
	},
}

// ZulipCheck is the reply to /account zulip check: a checklist.
func ZulipCheck(c account.ZulipCheck) string {
	if c.Failure != nil {
		return Failure(c.Failure)
	}
	var b strings.Builder
	b.WriteString("#### Zulip connection check\n")
	allOK := true
	for _, l := range c.Lines {
		mark := ":white_check_mark:"
		if !l.OK {
			mark, allOK = ":x:", false
		}
		fmt.Fprintf(&b, "%s %s\n", mark, CheckLine(l))
	}
	if allOK {
		b.WriteString("\nEverything needed to change emails in Zulip works.")
	}
	return b.String()
}

// CheckLine words one finding of /account zulip check.
func CheckLine(l account.CheckLine) string {
	if text, ok := findingTexts[l.Finding]; ok {
		return text(l)
	}
	return string(l.Finding)
}

// domainsInvalidText explains an unusable Allowed email domains setting.
func domainsInvalidText(l account.CheckLine) string {
	entries := make([]string, len(l.Entries))
	for i, e := range l.Entries {
		entries[i] = code(e)
	}
	return fmt.Sprintf("The **Allowed email domains** setting is invalid: %s %s, so every email change is refused. "+
		"Correct it in System Console > Plugins > Account Sync: a comma-separated list of domains such as `example.org, example.com`, or empty to allow any domain.",
		strings.Join(entries, ", "), plural(len(l.Entries), "is not a domain", "are not domains"))
}

func roleName(role int) string {
	switch role {
	case zulip.RoleOwner:
		return "Owner"
	case zulip.RoleAdmin:
		return "Administrator"
	case 300:
		return "Moderator"
	case 400:
		return "Member"
	case 600:
		return "Guest"
	default:
		return fmt.Sprintf("%d", role)
	}
}
