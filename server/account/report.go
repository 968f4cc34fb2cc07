package account

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// This file holds every text a user sees about a change, so they stay
// consistent and reviewable in one place. Texts are Markdown; anything that
// came from a user goes through code() so it cannot inject Markdown, links
// or mentions.

const askAdmin = "Please ask your system administrator for help; the details are in the server log."

// failureTexts says, for each code, what went wrong and what to do.
var failureTexts = map[Code]string{
	CodeAddressMissing:      "Please give the new address, for example `/account email ann@example.org`.",
	CodeAddressTooLong:      "That address is too long: Mattermost allows at most 128 characters.",
	CodeAddressInvalid:      "%s is not a valid email address. Give just the address, like `ann@example.org`, without a name or angle brackets.",
	CodeSameAddress:         "Your email already is %s. Nothing to change.",
	CodeManagedBySSO:        "Your account signs in with %s, so your email comes from that identity provider. Change it there; it will reach Mattermost at your next sign-in.",
	CodeBotAccount:          "Bot accounts cannot change their email with this command.",
	CodeBusy:                "Another change of your email is still running. Wait a minute and try again.",
	CodeTakenInMattermost:   "Another Mattermost account already uses %s. Choose another address, or ask your administrator if it should be yours.",
	CodeDomainNotAllowed:    "This server only accepts email addresses from certain domains, and %s is not one of them. Choose an address in an allowed domain.",
	CodeTakenInZulip:        "Another Zulip account already uses %s. Choose another address, or ask your administrator if it should be yours.",
	CodeZulipRefusedAddress: "Zulip does not accept %s as an email address. Choose another address.",
	CodeZulipUserNotFound:   "Zulip could not find your Zulip account (it may have been removed or hidden from the sync bot), so the two cannot be changed together. Ask your administrator to check your Zulip account.",
	CodeZulipNotConfigured:  "Zulip sync is turned on but not set up. " + askAdmin,
	CodeZulipTooOld:         "The Zulip server is too old to change emails through its API (it needs Zulip 10.0 or later). " + askAdmin,
	CodeZulipUnauthorized:   "Zulip did not accept the sync bot's credentials. " + askAdmin,
	CodeZulipBotNotAdmin:    "The sync bot is not an administrator in Zulip. " + askAdmin,
	CodeZulipNoPermission:   "The sync bot lacks Zulip's permission to change emails. " + askAdmin,
	CodeZulipRejected:       "Zulip refused the request. " + askAdmin,
	CodeZulipUnavailable:    "Zulip could not be reached or did not answer in time. Try again in a few minutes; if it keeps happening, tell your administrator.",
	CodeZulipRateLimited:    "Zulip is busy (rate limit reached). Try again in %s.",
	CodeMattermostFailed:    "Mattermost could not change your email. " + askAdmin,
	CodeMattermostUnchanged: "Mattermost accepted the request but your email did not change. " + askAdmin,
	CodeInternal:            "Something went wrong inside Account Sync. " + askAdmin,

	CodeSessionUnknown:       "Account Sync could not check how you are signed in. " + askAdmin,
	CodeOAuthRefused:         "Email changes from OAuth 2.0 apps are turned off on this server. Change your email in Mattermost itself, or ask your system administrator to turn on **Allow OAuth 2.0 apps to change emails** (System Console > Plugins > Account Sync).",
	CodeTokenRefused:         "Email and link changes from personal access tokens are turned off on this server. Run the command in Mattermost itself, or ask your system administrator to turn on **Allow OAuth 2.0 apps to change emails** (it covers access tokens too).",
	CodeLimitReached:         "You have reached the limit of %s in 24 hours. Your next change is possible %s.",
	CodeTooManyAttempts:      "You have tried to change your email %s in the last hour. Your next try is possible %s.",
	CodeNotLinked:            "Your Mattermost account is not linked to a Zulip account yet, so Account Sync cannot tell which Zulip account is yours. To link it, type `/account link <your-zulip-address>` (for example %s): the sync bot sends that Zulip account a code to type here.",
	CodeZulipAccountMismatch: "Your current email %s belongs to a different Zulip account than the one linked to your Mattermost account, so Account Sync changes neither. Ask your administrator to check your accounts.",
	CodeZulipAccountInactive: "Your linked Zulip account is deactivated or no longer exists. Ask your administrator, or remove the link with `/account unlink` and link your current Zulip account with `/account link <your-zulip-address>`.",
	CodeZulipLinkedElsewhere: "The Zulip account with the address %s is already linked to another Mattermost account. Ask your administrator to check your accounts.",
	CodeZulipRedirect:        "Zulip's address is not set up correctly in Account Sync (Zulip answered with a redirect). " + askAdmin,
	CodeAdminOnly:            "Only system administrators can run this: linking everyone, or changing or reading another user's email.",
	CodeOAuthRefusedAdmin:    "Administrator actions of Account Sync (another user's email or status, linking everyone, the Zulip check) are never accepted from OAuth 2.0 apps, whatever the plugin's settings. Use Mattermost itself (web, desktop or mobile app), or a script with a personal access token.",

	CodeAddressSlash:         "%s contains a `/`, and Zulip cannot find or check an account by such an address (its API cannot look it up). Choose an address without `/`.",
	CodeDomainsMisconfigured: "The administrator's **Allowed email domains** setting for Account Sync is invalid, so no email can be changed until it is corrected. " + askAdmin,

	CodeChangeOpen:       "You already have an email change in progress (to %s). Type `/account status` to see where it stands; `/account cancel` drops it if it has not changed anything yet.",
	CodeChangedMeanwhile: "Your Mattermost email was changed in another way meanwhile (it is now %s), so Account Sync stopped this change.",
	CodeLinkExpired:      "The confirmation link Mattermost mailed to %s was not opened within 24 hours, so the change expired.",
	CodeCancelled:        "You cancelled this change.",
	CodeLinkChanged:      "The link between your Mattermost and Zulip accounts changed while this change waited, so Account Sync did not change Zulip.",
	CodeGaveUp:           "Zulip could not be reached for too long, so Account Sync stopped trying. Try again later; if it keeps happening, tell your administrator.",

	CodeRollbackLinkExpired: "The confirmation link that puts your old address back in Mattermost was not opened within 24 hours. " + askAdmin,
	CodeSyncTurnedOff:       "Your administrator turned Zulip sync off while the change waited for Zulip, so it was not made (it was to be made in both systems or not at all). Type `/account email` again to change your Mattermost email alone.",
	CodeUserDeactivated:     "This Mattermost account is deactivated, so its email is not changed. A system administrator can reactivate it first (System Console > Users).",
	CodeUserUnreadable:      "Account Sync could not read your Mattermost account. " + askAdmin,
	CodeZulipDummyAddress:   "%s has the form Zulip uses for an account's number (`user<number>@<Zulip host>`), not a real address: Zulip would take it for that account. Give your real email address.",
}

// Report renders the result as the ephemeral reply to the user.
func (r Result) Report() string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var b strings.Builder

	switch ch.State {
	case StateDone:
		if ch.Zulip == StatusChanged {
			fmt.Fprintf(&b, "Your email is now %s in Mattermost and in Zulip (it was %s).", newA, oldA)
		} else {
			fmt.Fprintf(&b, "Your email is now %s in Mattermost (it was %s). Zulip sync is turned off on this server, so Zulip was not changed.", newA, oldA)
		}
		b.WriteString(" Mattermost tells your old address about the change when email notifications are on.")
	case StatePendingVerification:
		fmt.Fprintf(&b, "Mattermost sent a confirmation link to %s. Your email stays %s until you open that link (it is valid for 24 hours).", newA, oldA)
		if ch.Zulip != StatusDisabled {
			b.WriteString(" Once you open it, Account Sync changes Zulip too and sends you a direct message.")
		}
	case StateWaitingForZulip:
		why := "Zulip cannot be reached right now"
		if r.Failure != nil && r.Failure.Code == CodeZulipRateLimited {
			why = "Zulip is busy right now"
		}
		fmt.Fprintf(&b, "%s, so nothing was changed yet. Your change to %s is saved: Account Sync tries again %s, makes it in both systems or not at all, and sends you a direct message when it is done. "+
			"`/account status` shows where it stands; `/account cancel` drops it.", why, newA, r.nextText())
	case StateMattermostChanged:
		if ch.Zulip == StatusUnknown {
			fmt.Fprintf(&b, "Your Mattermost email is now %s (it was %s). Zulip did not answer clearly in time (no answer, or a server error), so Account Sync is checking whether Zulip took the change too; "+
				"a direct message tells you how it ended, usually within a minute. `/account status` shows where it stands.", newA, oldA)
			break
		}
		fmt.Fprintf(&b, "Your Mattermost email is now %s (it was %s), but Zulip did not take it yet. Account Sync tries Zulip again %s and sends you a direct message when Zulip has it too; "+
			"if Zulip refuses it, your Mattermost email is put back. `/account status` shows where it stands.", newA, oldA, r.nextText())
	case StateRefused:
		b.WriteString(r.failureText(r.Failure))
		if r.Failure == nil || r.Failure.Code != CodeSameAddress {
			b.WriteString(" Nothing was changed.")
		}
	case StateFailed:
		b.WriteString(r.failureText(r.Failure))
		b.WriteString(" Nothing was changed.")
	case StateRolledBack:
		fmt.Fprintf(&b, "Zulip did not take the change, so your Mattermost email was put back to %s. Nothing was changed. %s", oldA, r.failureText(r.Failure))
	case StateNeedsAttention:
		b.WriteString(r.attentionText())
	case StateRollbackPendingVerification:
		b.WriteString(r.rollbackLinkText())
	default:
		b.WriteString(failureTexts[CodeInternal])
	}
	if r.showsReference() {
		fmt.Fprintf(&b, " (Reference: %s)", code(ch.ID))
	}
	return b.String()
}

// showsReference tells whether the reply carries the change ID: whenever an
// admin may need to find the change in the log or the records.
func (r Result) showsReference() bool {
	switch {
	case r.Change.ID == "" || r.Change.State == StateDone:
		return false
	case r.Change.State == StateRefused:
		return r.Failure != nil && r.Failure.Code.ForAdmin()
	default:
		return true
	}
}

// rollbackLinkText says which link puts the old address back, and why.
func (r Result) rollbackLinkText() string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	until := "within 24 hours"
	if ch.GiveUpAt != nil {
		until = "before " + ch.GiveUpAt.Add(-verificationMargin).UTC().Format("2006-01-02 15:04") + " UTC"
	}
	return fmt.Sprintf("Zulip did not take your email change to %s (%s), so Account Sync is putting your Mattermost email back to %s. "+
		"This server confirms every email change by a link, so Mattermost has mailed a confirmation link to your old address %s: "+
		"**open that link %s** to get %s back. Until you do, Mattermost has %s and Zulip still has %s. If the link is not opened in time, your administrator is told.",
		newA, strings.TrimSuffix(r.lastErrorText(), "."), oldA, oldA, until, oldA, newA, oldA)
}

func (r Result) attentionText() string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	switch c := r.code(); {
	case c == CodeRollbackLinkExpired:
		return fmt.Sprintf("**Your accounts now differ:** Mattermost has %s but Zulip still has %s. Zulip did not take the change, and the confirmation link that puts %s back in Mattermost was not opened within 24 hours. "+askAdmin,
			newA, oldA, oldA)
	case c == CodeChangedMeanwhile && ch.Zulip == StatusChanged:
		return fmt.Sprintf("**Your accounts now differ:** your Mattermost email was changed in another way meanwhile (it is now %s), while Zulip took %s from this change. "+askAdmin,
			code(r.detail()), newA)
	case c == CodeChangedMeanwhile && ch.Zulip == StatusUnknown:
		return fmt.Sprintf("Your Mattermost email was changed in another way meanwhile (it is now %s), and Account Sync cannot tell whether Zulip took %s from this change (it did not answer clearly, and cannot be read now). "+askAdmin,
			code(r.detail()), newA)
	case c == CodeChangedMeanwhile:
		return fmt.Sprintf("**Your accounts now differ:** your Mattermost email was changed in another way meanwhile (it is now %s), while Zulip still has %s. "+askAdmin,
			code(r.detail()), oldA)
	case ch.Mattermost == StatusRollbackFailed:
		return fmt.Sprintf("**Your accounts now differ:** Mattermost has %s but Zulip still has %s. Zulip did not take the change (%s) and putting Mattermost back failed. "+askAdmin,
			newA, oldA, strings.TrimSuffix(r.failureText(r.Failure), "."))
	case ch.Mattermost == StatusUnknown && ch.Zulip == StatusChanged:
		return fmt.Sprintf("Zulip has %s, but Account Sync could not read your Mattermost account to tell whether it has it too. "+askAdmin, newA)
	case ch.Mattermost == StatusUnknown && c == CodeUserUnreadable:
		return fmt.Sprintf("Account Sync could not read your Mattermost account, so it cannot tell whether your email change to %s was made there. "+askAdmin, newA)
	case ch.Mattermost == StatusUnknown:
		return "Mattermost accepted the change but could not confirm it, so Zulip was not changed. " + askAdmin
	case ch.Zulip == StatusChanged:
		return fmt.Sprintf("Your email change to %s could not be finished (%s), although Zulip has %s. "+askAdmin, newA, strings.TrimSuffix(r.failureText(r.Failure), "."), newA)
	default:
		return fmt.Sprintf("Your Mattermost email is now %s (it was %s), but Zulip did not confirm the change: it did not answer in time, so it may or may not have %s. "+
			"Your administrator has been told (see the server log); please do not change your email again until they have checked.", newA, oldA, newA)
	}
}

func (r Result) failureText(f *Failure) string {
	if f == nil {
		return failureTexts[CodeInternal]
	}
	text, ok := failureTexts[f.Code]
	if !ok {
		return failureTexts[CodeInternal]
	}
	if !strings.Contains(text, "%s") {
		return text
	}
	if f.Code == CodeLimitReached || f.Code == CodeTooManyAttempts {
		return fmt.Sprintf(text, limitCount(f), whenText(f.Until, r.now()))
	}
	var arg string
	switch f.Code {
	case CodeAddressInvalid, CodeAddressSlash:
		arg = code(r.Input)
	case CodeNotLinked:
		arg = code("/account link " + r.Change.OldEmail)
	case CodeSameAddress, CodeZulipAccountMismatch, CodeZulipLinkedElsewhere:
		arg = code(r.Change.OldEmail)
	case CodeManagedBySSO:
		arg = authServiceName(f.Detail)
	case CodeZulipRateLimited:
		arg = waitText(f.RetryAfter)
	case CodeChangedMeanwhile:
		arg = code(f.Detail)
	case CodeChangeOpen:
		if r.Open != nil {
			arg = code(r.Open.NewEmail)
		} else {
			arg = "another address"
		}
	default:
		arg = code(r.Change.NewEmail)
	}
	return fmt.Sprintf(text, arg)
}

// code shows untrusted text as an inline code span: no Markdown, links or
// mentions render inside it. Backticks and line breaks are replaced and long
// input is cut.
func code(s string) string {
	const limit = 80
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '`':
			return '\''
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > limit {
		s = string(rs[:limit]) + "…"
	}
	if strings.TrimSpace(s) == "" {
		return "(empty)"
	}
	return "`" + s + "`"
}

// now is the time the report is made, for "in about N hours".
func (r Result) now() time.Time {
	if !r.Change.UpdatedAt.IsZero() {
		return r.Change.UpdatedAt
	}
	return time.Now()
}

func limitCount(f *Failure) string {
	switch {
	case f.Code == CodeTooManyAttempts:
		return fmt.Sprintf("%d times", f.Limit)
	case f.Limit == 1:
		return "1 email change"
	default:
		return fmt.Sprintf("%d email changes", f.Limit)
	}
}

// whenText says when a limit lets the user go on: "in about 3 hours (after
// 2026-11-23 15:04 UTC)".
func whenText(until, now time.Time) string {
	var in string
	switch d := until.Sub(now); {
	case d < time.Minute:
		in = "in less than a minute"
	case d < 2*time.Hour:
		in = fmt.Sprintf("in about %d minutes", int(math.Ceil(d.Minutes())))
	default:
		in = fmt.Sprintf("in about %d hours", int(math.Round(d.Hours())))
	}
	return in + " (after " + until.UTC().Format("2006-01-02 15:04") + " UTC)"
}

func waitText(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs <= 1 {
		return "a few seconds"
	}
	if secs < 120 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", int(math.Ceil(float64(secs)/60)))
}

var authServiceNames = map[string]string{
	"gitlab":    "GitLab",
	"google":    "Google",
	"office365": "Microsoft Entra ID (Office 365)",
	"openid":    "OpenID Connect",
	"saml":      "SAML single sign-on",
	"ldap":      "AD/LDAP",
}

func authServiceName(s string) string {
	if n, ok := authServiceNames[strings.ToLower(s)]; ok {
		return n
	}
	return "an external identity provider (" + code(s) + ")"
}

// Report renders what /account link or /account unlink did.
func (r LinkResult) Report() string {
	addr := code(r.Address)
	switch r.Outcome {
	case LinkOutcomeCodeSent:
		return fmt.Sprintf("The sync bot sent a direct message with a 6-digit code to the Zulip account %s. Type `/account link <code>` here within %d minutes to link it to your Mattermost account. "+
			"If that Zulip account is not yours, nothing happens without the code.", addr, int(LinkCodeTTL.Minutes()))
	case LinkOutcomeLinked:
		return fmt.Sprintf("Your Mattermost account is now linked to the Zulip account %s. From now on `/account email` changes the email of that Zulip account together with your Mattermost email.", addr)
	case LinkOutcomeAlreadyLinked:
		return fmt.Sprintf("Your Mattermost account is already linked to the Zulip account %s. To link another one, first type `/account unlink`.", addr)
	case LinkOutcomeWrongCode:
		if r.TriesLeft <= 0 {
			return "That code is not right, and it was the last try. Ask for a new code with `/account link <your-zulip-address>`."
		}
		return fmt.Sprintf("That code is not right. You have %d more %s; check the direct message from the sync bot in Zulip.", r.TriesLeft, plural(r.TriesLeft, "try", "tries"))
	case LinkOutcomeCodeExpired:
		return "That code has expired or was used up. Ask for a new one with `/account link <your-zulip-address>`."
	case LinkOutcomeNoCode:
		return "There is no code waiting for you. First type `/account link <your-zulip-address>`; the sync bot then sends you a code in Zulip."
	case LinkOutcomeTooManyCodes:
		return fmt.Sprintf("A code was sent a short while ago, or too many codes were asked for today. You can ask for a new code %s.", whenText(r.Until, time.Now()))
	case LinkOutcomeZulipCodeLimit:
		return fmt.Sprintf("The Zulip account %s was already sent %d codes in the last 24 hours, the most Account Sync sends to one Zulip account whoever asks. "+
			"You can ask for a new code %s. If that Zulip account is yours and you did not ask for the earlier codes, tell your administrator: someone else may be trying to link it.", addr, MaxZulipCodesPerDay, whenText(r.Until, time.Now()))
	case LinkOutcomeNoZulipUser:
		return fmt.Sprintf("Zulip has no active account under %s that the sync bot can see. Check the address you use in Zulip; if Zulip hides your email from everyone, give the address shown in your Zulip profile instead.", addr)
	case LinkOutcomeUnlinked:
		return fmt.Sprintf("Your Mattermost account is no longer linked to the Zulip account %s. `/account email` now changes nothing until you link again.", addr)
	case LinkOutcomeNotLinked:
		return "Your Mattermost account is not linked to a Zulip account."
	default:
		if r.Failure != nil && r.Failure.Code == CodeAddressSlash {
			return fmt.Sprintf("Zulip cannot look up an account by an address containing `/`, such as %s. Give your Zulip account's id-based address instead, `user<ID>@<zulip-host>` (your user ID is in your Zulip profile). Nothing was changed.", code(r.Input))
		}
		text := Result{Failure: r.Failure, Input: r.Input, Change: Change{OldEmail: r.Address}, Open: r.Open}.failureText(r.Failure)
		return text + " Nothing was changed."
	}
}

// Report renders what /account link-all did. At most maxSkippedLines
// skipped users are named; the server log has the counts.
func (r LinkAllReport) Report() string {
	if r.Failure != nil {
		return Result{Failure: r.Failure}.failureText(r.Failure) + " Nothing was changed."
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
		fmt.Fprintf(&b, "\n- @%s (%s): %s", strings.ReplaceAll(u.Username, "`", ""), code(u.Email), u.Reason)
	}
	return b.String()
}

const maxSkippedLines = 50

// linkCodeMessage is the direct message the bot sends in Zulip.
func linkCodeMessage(username, linkCode string) string {
	return fmt.Sprintf("**Account Sync**: the Mattermost user %s asked to link this Zulip account to their Mattermost account, "+
		"so that changing their email in Mattermost also changes it here.\n\n"+
		"If that is you, type `/account link %s` in Mattermost within %d minutes.\n\n"+
		"If it is not you, ignore this message: nothing changes without the code.", code("@"+username), linkCode, int(LinkCodeTTL.Minutes()))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// nextText says when the job tries next: "in about 2 minutes (after ...)".
func (r Result) nextText() string {
	if r.Change.NextAttemptAt == nil {
		return "shortly"
	}
	return whenText(*r.Change.NextAttemptAt, r.now())
}

// lastErrorText is the stored reason of the latest failure, or "".
func (r Result) lastErrorText() string {
	if r.Failure != nil {
		return r.failureText(r.Failure)
	}
	if r.Change.LastError != nil {
		return r.Change.LastError.Text
	}
	return ""
}

// Notice is the direct message the bot sends when a change moved on in the
// background: where it ended, or that it waits for the user's link. It is
// empty when there is nothing to tell.
func (r Result) Notice() string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var text string
	switch ch.State {
	case StateDone:
		if ch.Zulip == StatusChanged {
			text = fmt.Sprintf("Your email change is complete: your email is now %s in Mattermost and in Zulip (it was %s).", newA, oldA)
		} else {
			text = fmt.Sprintf("Your email change is complete: your email is now %s in Mattermost (it was %s). Zulip sync was off for this change, so Zulip was not changed: if you use Zulip, change your email there too.", newA, oldA)
		}
	case StatePendingVerification:
		text = fmt.Sprintf("Zulip can be reached again, so Account Sync went on with your email change: Mattermost sent a confirmation link to %s. "+
			"Your email stays %s until you open it (it is valid for 24 hours); Zulip follows once you do.", newA, oldA)
	case StateFailed:
		if r.code() == CodeChangedMeanwhile {
			text = fmt.Sprintf("Your email change to %s was stopped: your Mattermost email was changed in another way meanwhile (it is now %s), so Account Sync did not change Zulip (it keeps %s).",
				newA, code(r.detail()), oldA)
			break
		}
		text = fmt.Sprintf("Your email change to %s was not made, and nothing was changed: your email is still %s. %s", newA, oldA, r.lastErrorText())
	case StateExpired:
		text = fmt.Sprintf("Your email change to %s expired: the confirmation link was not opened within 24 hours. Nothing was changed; your email is still %s. "+
			"Type `/account email` again if you still want the change.", newA, oldA)
	case StateRolledBack:
		text = fmt.Sprintf("Zulip did not take your email change to %s, so your Mattermost email was put back to %s. %s", newA, oldA, r.lastErrorText())
	case StateNeedsAttention:
		text = r.attentionText()
	case StateRollbackPendingVerification:
		text = r.rollbackLinkText()
	default:
		return ""
	}
	return strings.TrimSpace(text) + fmt.Sprintf(" (Reference: %s)", code(ch.ID))
}

// StatusText describes the user's open or last change in plain words.
func StatusText(ch Change, found bool, now time.Time) string {
	if !found {
		return "You have no email change on record. To change your email in Mattermost and Zulip, type `/account email <new-address>`."
	}
	r := Result{Change: ch}
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	ref := fmt.Sprintf(" (Reference: %s)", code(ch.ID))
	giveUp := ""
	if ch.GiveUpAt != nil {
		giveUp = " Account Sync keeps trying until " + ch.GiveUpAt.UTC().Format("2006-01-02 15:04") + " UTC."
	}
	next := "shortly"
	if ch.NextAttemptAt != nil {
		next = whenText(*ch.NextAttemptAt, now)
	}
	reason := ""
	if ch.LastError != nil {
		reason = " Last answer: " + strings.TrimSuffix(ch.LastError.Text, ".") + "."
	}
	switch ch.State {
	case StateStarted:
		return fmt.Sprintf("Your email change to %s is being made right now. Look again in a minute.%s", newA, ref)
	case StateWaitingForZulip:
		return fmt.Sprintf("Your email change to %s is saved and waits for Zulip, which could not be reached. Nothing has changed yet: your email is still %s.%s Next try %s.%s "+
			"`/account cancel` drops the change.%s", newA, oldA, reason, next, giveUp, ref)
	case StatePendingVerification:
		return fmt.Sprintf("Your email change to %s waits for you to open the confirmation link Mattermost mailed to that address (valid until %s UTC). "+
			"Your email stays %s until then; Zulip follows once you open it. The change cannot be cancelled: the link expires by itself.%s",
			newA, ch.CreatedAt.Add(VerificationLinkValidity).UTC().Format("2006-01-02 15:04"), oldA, ref)
	case StateRollbackPendingVerification:
		return r.rollbackLinkText() + ref
	case StateMattermostChanged:
		return fmt.Sprintf("Your Mattermost email is now %s (it was %s); Zulip still has to follow.%s Next try %s.%s If Zulip refuses the change or cannot be reached until then, your Mattermost email is put back.%s",
			newA, oldA, reason, next, giveUp, ref)
	case StateCancelled:
		return fmt.Sprintf("Your last email change, to %s, was cancelled. Nothing was changed; your email is %s.%s", newA, oldA, ref)
	default:
		if n := r.Notice(); n != "" {
			return "Your last email change: " + n
		}
		return fmt.Sprintf("Your last email change, to %s, is %s.%s", newA, strings.ReplaceAll(string(ch.State), "_", " "), ref)
	}
}

// Report renders what /account cancel did.
func (r CancelResult) Report() string {
	newA := code(r.Change.NewEmail)
	switch r.Outcome {
	case CancelOutcomeCancelled:
		return fmt.Sprintf("Cancelled your email change to %s. Nothing was changed; your email is still %s.", newA, code(r.Change.OldEmail))
	case CancelOutcomeNothingOpen:
		return "You have no email change in progress, so there is nothing to cancel."
	case CancelOutcomePendingLink:
		return fmt.Sprintf("Your email change to %s waits for the confirmation link Mattermost mailed to that address, and cannot be cancelled: "+
			"if you do not open the link, it expires by itself at %s UTC and nothing changes. If you open it, Zulip follows.",
			newA, r.Change.CreatedAt.Add(VerificationLinkValidity).UTC().Format("2006-01-02 15:04"))
	case CancelOutcomeAlreadyChanged:
		return fmt.Sprintf("Your Mattermost email already is %s, so this change cannot be cancelled; Account Sync is bringing Zulip along. "+
			"To go back, wait until it is done (`/account status`) and then change your email again.", newA)
	case CancelOutcomeBusy:
		return "Your email change is being made right now. Look again with `/account status` in a minute."
	case CancelOutcomeRollbackLink:
		return "There is nothing left to cancel: Zulip did not take your change, and your old address comes back in Mattermost once you open the confirmation link mailed to " +
			code(r.Change.OldEmail) + "."
	case CancelOutcomeRefused:
		return Result{Failure: r.Failure}.failureText(r.Failure) + " Nothing was changed."
	default:
		return failureTexts[CodeInternal]
	}
}

// OnBehalfNotice is the direct message a user gets when an admin asked to
// change their email: who, to what, and where it stands.
func (r Result) OnBehalfNotice(admin string) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var where string
	switch ch.State {
	case StateDone:
		where = fmt.Sprintf("Your email is now %s (it was %s).", newA, oldA)
	case StatePendingVerification:
		where = fmt.Sprintf("Mattermost sent a confirmation link to %s; your email stays %s until it is opened.", newA, oldA)
	case StateWaitingForZulip, StateMattermostChanged:
		where = "Zulip could not take it yet; Account Sync keeps trying and tells you when it is done."
	default:
		where = fmt.Sprintf("It did not go through: your email stays %s.", oldA)
	}
	return fmt.Sprintf("%s, a system administrator, asked to change your email to %s in Mattermost and Zulip. %s If you did not expect this, contact your administrator. (Reference: %s)",
		code(admin), newA, where, code(ch.ID))
}

// AdminReport renders the result of an admin's change of another user's
// email, for the admin.
func (r Result) AdminReport(username string) string {
	ch := r.Change
	u, oldA, newA := code("@"+username), code(ch.OldEmail), code(ch.NewEmail)
	var text string
	switch ch.State {
	case StateDone:
		if ch.Zulip == StatusChanged {
			text = fmt.Sprintf("The email of %s is now %s in Mattermost and in Zulip (it was %s). They got a direct message about it.", u, newA, oldA)
		} else {
			text = fmt.Sprintf("The email of %s is now %s in Mattermost (it was %s); Zulip sync is off for this change, so Zulip was not changed. They got a direct message about it.", u, newA, oldA)
		}
	case StatePendingVerification:
		text = fmt.Sprintf("Mattermost sent a confirmation link to %s. The email of %s stays %s until the link is opened; then Zulip follows.", newA, u, oldA)
	case StateWaitingForZulip:
		text = fmt.Sprintf("Zulip cannot be reached right now, so nothing was changed yet. The change of %s to %s is saved and will be made in both systems or not at all (`/account status %s`).", u, newA, "@"+username)
	case StateMattermostChanged:
		text = fmt.Sprintf("The Mattermost email of %s is now %s, but Zulip did not take it yet; Account Sync keeps trying, and puts Mattermost back if Zulip refuses (`/account status %s`).", u, newA, "@"+username)
	default:
		return fmt.Sprintf("The email of %s was not changed as asked: %s", u, strings.TrimSpace(r.Report())) // Report adds the reference
	}
	return text + fmt.Sprintf(" (Reference: %s)", code(ch.ID))
}

// code is why the change stopped: the result's failure, else the record's.
func (r Result) code() Code {
	switch {
	case r.Failure != nil:
		return r.Failure.Code
	case r.Change.Code != "":
		return r.Change.Code
	case r.Change.LastError != nil:
		return r.Change.LastError.Code
	}
	return ""
}

// detail is the failure's safe detail (the address Mattermost has now, for
// CodeChangedMeanwhile), from the result or the record's last error text.
func (r Result) detail() string {
	if r.Failure != nil && r.Failure.Detail != "" {
		return r.Failure.Detail
	}
	if r.Change.LastError != nil && r.Change.LastError.Detail != "" {
		return r.Change.LastError.Detail
	}
	return "another address"
}
