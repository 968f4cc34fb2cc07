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
	CodeZulipUserNotFound:   "Zulip has no account under your current address %s (or hides it from the sync bot), so the two cannot be changed together. Ask your administrator to check your Zulip account.",
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
			fmt.Fprintf(&b, " Zulip was not changed: it still has %s. After you confirm, ask your administrator to update Zulip too.", oldA)
		}
	case StateRefused:
		b.WriteString(r.failureText(r.Failure))
		if r.Failure == nil || r.Failure.Code != CodeSameAddress {
			b.WriteString(" Nothing was changed.")
		}
	case StateMattermostNotChanged:
		b.WriteString(r.failureText(r.Failure))
		b.WriteString(" Nothing was changed in Zulip.")
	case StateRolledBack:
		fmt.Fprintf(&b, "Zulip did not take the change, so your Mattermost email was put back to %s. Nothing was changed. %s", oldA, r.failureText(r.Failure))
	case StateNeedsAttention:
		b.WriteString(r.attentionText())
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

func (r Result) attentionText() string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	switch {
	case ch.Mattermost == StatusRollbackFailed:
		return fmt.Sprintf("**Your accounts now differ:** Mattermost has %s but Zulip still has %s. Zulip did not take the change (%s) and putting Mattermost back failed. "+askAdmin,
			newA, oldA, strings.TrimSuffix(r.failureText(r.Failure), "."))
	case ch.Mattermost == StatusUnknown:
		return "Mattermost accepted the change but could not confirm it, so Zulip was not changed. " + askAdmin
	default:
		return fmt.Sprintf("Zulip did not answer in time, so your Mattermost email was put back to %s. Zulip may still have made the change to %s. "+askAdmin, oldA, newA)
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
	var arg string
	switch f.Code {
	case CodeAddressInvalid:
		arg = code(r.Input)
	case CodeSameAddress, CodeZulipUserNotFound:
		arg = code(r.Change.OldEmail)
	case CodeManagedBySSO:
		arg = authServiceName(f.Detail)
	case CodeZulipRateLimited:
		arg = waitText(f.RetryAfter)
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
