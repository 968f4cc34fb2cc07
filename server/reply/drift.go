package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// driftText is how the drift report names a kind, and what the kind means
// and what to do about it.
type driftText struct{ label, text string }

// driftTexts words every kind of the drift report; TestEveryDriftKindHasAText
// ranges over account.DriftKinds().
var driftTexts = map[account.DriftKind]driftText{
	account.DriftMattermostChanged: {"changed in Mattermost elsewhere",
		"The Mattermost email was changed outside Account Sync (the profile page, the System Console, mmctl, an SSO or LDAP sign-in); Zulip still has the address both last agreed on. " +
			"What to do: nothing, unless such changes are set to be only reported: Account Sync forwards it to Zulip at its next scan, or at the user's next sign-in. " +
			"If the row stays, Zulip refused the address (the user was told why): change it in Zulip by hand, or set the Mattermost email back."},
	account.DriftZulipChanged: {"changed in Zulip elsewhere",
		"The Zulip address was changed outside Account Sync (in Zulip's settings, by a Zulip administrator, by SCIM); Mattermost still has the address both last agreed on. " +
			"What to do: nothing, unless such changes are set to be only reported: Account Sync offers the user the address at its next scan, and they decide (or, set to apply, makes it in Mattermost). " +
			"If the row stays, the user kept their Mattermost email, or Mattermost could not take the address (the user was told why): they can still type `/account email <zulip-address>`, or change it back in Zulip."},
	account.DriftBothChangedSame: {"both changed to the same address",
		"Both systems were changed outside Account Sync, to the same address. " +
			"What to do: nothing; Account Sync notes the new address as the agreed one at its next scan."},
	account.DriftBothChangedDifferent: {"both changed to different addresses",
		"Both systems were changed outside Account Sync, to different addresses; Account Sync does not guess which one is right. " +
			"What to do: ask the user which address is theirs. If it is the Zulip one, `/account email @user <zulip-address>` moves Mattermost to it; " +
			"if it is the Mattermost one, change the address in Zulip."},
	account.DriftAgreedUnknown: {"addresses differ, agreed address unknown",
		"The two addresses differ, and the link was made before Account Sync kept the address both agreed on, so which side changed is unknown. " +
			"What to do: ask the user which address is theirs. If it is the Zulip one, `/account email @user <zulip-address>` moves Mattermost to it; " +
			"if it is the Mattermost one, change the address in Zulip."},
	account.DriftZulipInactive: {"linked Zulip account deactivated or deleted",
		"The linked Zulip account is deactivated, deleted or a bot, so no change reaches it: this user's email changes are refused. " +
			"What to do: reactivate the account in Zulip; or the user runs `/account unlink` and links their current Zulip account with `/account link <zulip-address>`."},
	account.DriftMattermostInactive: {"Mattermost user deactivated",
		"The Mattermost user is deactivated, and the Zulip account (linked, or with the same address) is still active. " +
			"What to do: if the person left, deactivate the Zulip account too; otherwise reactivate the Mattermost user."},
	account.DriftZulipHidden: {"Zulip address hidden from the bot",
		"Zulip hides the linked account's address from the sync bot, so the two cannot be compared; the Zulip email shown is Zulip's id-based address. " +
			"What to do: ask the user to let administrators see their email in Zulip (Settings > Account & privacy > Who can access your email address)."},
	account.DriftOpenChange: {"email change in progress",
		"The user has an email change in progress; the two are compared again once it ends. " +
			"What to do: nothing; `/account status @user` shows where it stands."},
	account.DriftWouldLink: {"not linked, links by itself",
		"Not linked, but the verified Mattermost email is the address of an active Zulip account nobody is linked to: the next scan links the two, unless the user once unlinked (then only they link again). " +
			"What to do: nothing, or link now with `/account link-all`."},
	account.DriftWouldLinkUnverified: {"not linked, email not verified",
		"Not linked; the Mattermost email is the address of an active Zulip account nobody is linked to, but it is not verified in Mattermost, so it proves nothing. " +
			"What to do: where a directory sets the emails (and users cannot change them), `/account link-all unverified` links it; " +
			"otherwise the user links with `/account link <zulip-address>`."},
	account.DriftNoZulipAccount: {"no Zulip account",
		"Not linked, and no active Zulip account free to link has this email (none has it, or the one that has it is deactivated, a bot, or linked to another Mattermost user: the Zulip columns then name it). " +
			"What to do: if the person has a Zulip account under another address, they link it with `/account link <zulip-address>`; otherwise nothing."},
	account.DriftNoMattermostUser: {"no Mattermost user",
		"An active Zulip account that no Mattermost user is linked to or has the address of. " +
			"What to do: if the person has a Mattermost account under another address, they link it from Mattermost with `/account link <zulip-address>` " +
			"(`user<ID>@<zulip-host>` when Zulip hides the address); otherwise nothing."},
}

// DriftLabel names a kind of the drift report.
func DriftLabel(k account.DriftKind) string {
	if t, ok := driftTexts[k]; ok {
		return t.label
	}
	return string(k)
}

// DriftText says what a kind of the drift report means and what to do.
func DriftText(k account.DriftKind) string {
	if t, ok := driftTexts[k]; ok {
		return t.text
	}
	return string(k)
}

// MaxDriftLines is how many rows the reply to /account drift shows; the
// full report is the CSV.
const MaxDriftLines = 20

// Drift is the reply to /account drift: the counts per kind with what each
// means, the first rows, and where the full report is.
func Drift(r account.DriftReport, csvURL, jsonURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Drift report**: compared %d Mattermost %s with %d Zulip %s.", r.MattermostUsers, plural(r.MattermostUsers, "user", "users"),
		r.ZulipUsers, plural(r.ZulipUsers, "account", "accounts"))
	if len(r.Rows) == 0 {
		b.WriteString(" Both systems agree: nothing to report.")
		return b.String()
	}
	fmt.Fprintf(&b, " %d %s to look at:\n", len(r.Rows), plural(len(r.Rows), "pair", "pairs"))
	for _, k := range account.DriftKinds() {
		if n := r.Counts[k]; n > 0 {
			fmt.Fprintf(&b, "\n- **%s: %d.** %s", DriftLabel(k), n, DriftText(k))
		}
	}
	if len(r.Rows) > MaxDriftLines {
		fmt.Fprintf(&b, "\n\nThe first %d of %d:\n", MaxDriftLines, len(r.Rows))
	} else {
		b.WriteString("\n\nThe pairs:\n")
	}
	for i, row := range r.Rows {
		if i == MaxDriftLines {
			break
		}
		b.WriteString("\n- " + driftLine(row))
	}
	fmt.Fprintf(&b, "\n\nThe full report: %s (CSV), or %s (JSON, by pages). Nothing was changed.", csvURL, jsonURL)
	return b.String()
}

// driftLine is one row: who on each side, and the kind.
func driftLine(row account.DriftRow) string {
	var parts []string
	if row.UserID != "" {
		parts = append(parts, fmt.Sprintf("@%s: Mattermost %s", strings.ReplaceAll(row.Username, "`", ""), code(row.Email)))
	}
	switch {
	case row.ZulipUserID != 0 && row.ZulipEmail != "":
		parts = append(parts, fmt.Sprintf("Zulip account %d %s", row.ZulipUserID, code(row.ZulipEmail)))
	case row.ZulipUserID != 0:
		parts = append(parts, fmt.Sprintf("Zulip account %d (not in Zulip's list)", row.ZulipUserID))
	}
	if row.AgreedEmail != "" {
		parts = append(parts, "agreed "+code(row.AgreedEmail))
	}
	return strings.Join(parts, ", ") + ": " + DriftLabel(row.Kind)
}
