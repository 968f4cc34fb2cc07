package reply

import (
	"fmt"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Link is the reply to /account link and /account unlink.
func Link(r account.LinkResult) string {
	addr := code(r.Address)
	switch r.Outcome {
	case account.LinkOutcomeCodeSent:
		return fmt.Sprintf("The sync bot sent a direct message with a 6-digit code to the Zulip account %s. Type `/account link <code>` here within %d minutes to link it to your Mattermost account. "+
			"If that Zulip account is not yours, nothing happens without the code.", addr, int(account.LinkCodeTTL.Minutes()))
	case account.LinkOutcomeLinked:
		return fmt.Sprintf("Your Mattermost account is now linked to the Zulip account %s. From now on `/account email` changes the email of that Zulip account together with your Mattermost email.", addr)
	case account.LinkOutcomeAlreadyLinked:
		return fmt.Sprintf("Your Mattermost account is already linked to the Zulip account %s. To link another one, first type `/account unlink`.", addr)
	case account.LinkOutcomeWrongCode:
		if r.TriesLeft <= 0 {
			return "That code is not right, and it was the last try. Ask for a new code with `/account link <your-zulip-address>`."
		}
		return fmt.Sprintf("That code is not right. You have %d more %s; check the direct message from the sync bot in Zulip.", r.TriesLeft, plural(r.TriesLeft, "try", "tries"))
	case account.LinkOutcomeCodeExpired:
		return "That code has expired or was used up. Ask for a new one with `/account link <your-zulip-address>`."
	case account.LinkOutcomeNoCode:
		return "There is no code waiting for you. First type `/account link <your-zulip-address>`; the sync bot then sends you a code in Zulip."
	case account.LinkOutcomeTooManyCodes:
		return fmt.Sprintf("A code was sent a short while ago, or too many codes were asked for today. You can ask for a new code %s.", whenText(r.Until, time.Now()))
	case account.LinkOutcomeZulipCodeLimit:
		return fmt.Sprintf("The Zulip account %s was already sent %d codes in the last 24 hours, the most Account Sync sends to one Zulip account whoever asks. "+
			"You can ask for a new code %s. If that Zulip account is yours and you did not ask for the earlier codes, tell your administrator: someone else may be trying to link it.",
			addr, account.MaxZulipCodesPerDay, whenText(r.Until, time.Now()))
	case account.LinkOutcomeNoZulipUser:
		return fmt.Sprintf("Zulip has no active account under %s that the sync bot can see. Check the address you use in Zulip; if Zulip hides your email from everyone, give the address shown in your Zulip profile instead.", addr)
	case account.LinkOutcomeUnlinked:
		return fmt.Sprintf("Your Mattermost account is no longer linked to the Zulip account %s. `/account email` now changes nothing until you link again.", addr)
	case account.LinkOutcomeNotLinked:
		return "Your Mattermost account is not linked to a Zulip account."
	default:
		if r.Failure != nil && r.Failure.Code == account.CodeAddressSlash {
			return fmt.Sprintf("Zulip cannot look up an account by an address containing `/`, such as %s. Give your Zulip account's id-based address instead, `user<ID>@<zulip-host>` (your user ID is in your Zulip profile). Nothing was changed.", code(r.Input))
		}
		res := account.Result{Failure: r.Failure, Input: r.Input, Change: account.Change{OldEmail: r.Address}, Open: r.Open}
		return failureText(res, r.Failure) + nothingChanged
	}
}

// LinkCodeMessage is the direct message the bot sends in Zulip with a link
// code (account.Deps.LinkCodeText).
func LinkCodeMessage(username, linkCode string) string {
	return fmt.Sprintf("**Account Sync**: the Mattermost user %s asked to link this Zulip account to their Mattermost account, "+
		"so that changing their email in Mattermost also changes it here.\n\n"+
		"If that is you, type `/account link %s` in Mattermost within %d minutes.\n\n"+
		"If it is not you, ignore this message: nothing changes without the code.", code("@"+username), linkCode, int(account.LinkCodeTTL.Minutes()))
}

// skipTexts says why /account link-all left a user out.
var skipTexts = map[account.SkipReason]string{
	account.SkipDeactivated:     "deactivated in Mattermost",
	account.SkipUnverified:      "email not verified in Mattermost",
	account.SkipNoZulipAccount:  "no active Zulip account with this address",
	account.SkipZulipBot:        "the Zulip account is a bot",
	account.SkipZulipInactive:   "the Zulip account is deactivated",
	account.SkipLinkedElsewhere: "the Zulip account is already linked to another Mattermost user",
	account.SkipSaveFailed:      "the link could not be saved (see the server log)",
}

// maxSkippedLines is how many skipped users the reply to link-all names;
// the server log has the counts.
const maxSkippedLines = 50

// LinkAll is the reply to /account link-all.
func LinkAll(r account.LinkAllReport) string {
	if r.Failure != nil {
		return Failure(r.Failure) + nothingChanged
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Linked %d %s. Already linked before: %d. Skipped: %d.", r.Linked, plural(r.Linked, "account", "accounts"), r.AlreadyLinked, len(r.Skipped))
	switch {
	case r.Trusted:
		b.WriteString(" Unverified Mattermost emails were trusted, as asked.")
	case r.Unverified > 0:
		fmt.Fprintf(&b, "\n\n%d of them have a matching address that is not verified in Mattermost. Anyone can put any address in their own profile when the server does not require verification, "+
			"so these are not linked. If your directory sets these emails (and users cannot change them), run `/account link-all unverified` to link them too.", r.Unverified)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n\nSkipped (these users can link themselves with `/account link <zulip-address>`):")
	}
	for i, u := range r.Skipped {
		if i == maxSkippedLines {
			fmt.Fprintf(&b, "\n- and %d more", len(r.Skipped)-maxSkippedLines)
			break
		}
		fmt.Fprintf(&b, "\n- @%s (%s): %s", strings.ReplaceAll(u.Username, "`", ""), code(u.Email), skipText(u.Reason))
	}
	return b.String()
}

func skipText(r account.SkipReason) string {
	if t, ok := skipTexts[r]; ok {
		return t
	}
	return string(r)
}
