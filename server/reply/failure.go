// Package reply holds every text a user sees: the replies to /account and
// to the HTTP API, the bot's direct messages, the link code sent in Zulip.
// It renders them from what the account package returns (states, codes and
// safe facts), so account knows no words and a text changed here changes
// what old records show too. Texts are Markdown; anything that came from a
// user goes through code(), so it cannot inject Markdown, links or mentions.
package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

const askAdmin = "Please ask your system administrator for help; the details are in the server log."

// failureTexts says, for each code, what went wrong and what to do. A %s
// is the code's fact (failureArg); TestEveryCodeHasAText ranges over
// account.Codes().
var failureTexts = map[account.Code]string{
	account.CodeOfferNotCurrent:     "This offer is no longer current: it was answered already, it is not yours, or a newer change replaced it. `/account status` shows where your email stands.",
	account.CodeZulipMovedOn:        "Your Zulip address was changed again meanwhile, so Account Sync did not use the earlier one in Mattermost, and changed nothing in Zulip.",
	account.CodeMigrationState:      "The domain migration is %s, so it cannot do that. `/account migrate status` shows where it stands.",
	account.CodeMigrationBusy:       "The domain migration is in the middle of a batch of changes (Zulip may be slow). Try again in a minute.",
	account.CodeMigrationDomain:     "A domain migration needs two different domains, such as `old.example` and `new.example`: domains only, no `@` or address.",
	account.CodeMigrationNotFound:   "There is no domain migration with that id. `/account migrate-domain <old-domain> <new-domain>` plans one.",
	account.CodeAddressMissing:      "Please give the new address, for example `/account email ann@example.org`.",
	account.CodeAddressTooLong:      "That address is too long: Mattermost allows at most 128 characters.",
	account.CodeAddressInvalid:      "%s is not a valid email address. Give just the address, like `ann@example.org`, without a name or angle brackets.",
	account.CodeSameAddress:         "Your email already is %s. Nothing to change.",
	account.CodeManagedBySSO:        "Your account signs in with %s, so your email comes from that identity provider. Change it there; it will reach Mattermost at your next sign-in.",
	account.CodeBotAccount:          "Bot accounts cannot change their email with this command.",
	account.CodeBusy:                "Another change of your email is still running. Wait a minute and try again.",
	account.CodeTakenInMattermost:   "Another Mattermost account already uses %s. Choose another address, or ask your administrator if it should be yours.",
	account.CodeDomainNotAllowed:    "This server only accepts email addresses from certain domains, and %s is not one of them. Choose an address in an allowed domain.",
	account.CodeTakenInZulip:        "Another Zulip account already uses %s. Choose another address, or ask your administrator if it should be yours.",
	account.CodeZulipRefusedAddress: "Zulip does not accept %s as an email address. Choose another address.",
	account.CodeZulipUserNotFound:   "Zulip could not find your Zulip account (it may have been removed or hidden from the sync bot), so the two cannot be changed together. Ask your administrator to check your Zulip account.",
	account.CodeZulipNotConfigured:  "Zulip sync is turned on but not set up. " + askAdmin,
	account.CodeZulipTooOld:         "The Zulip server is too old to change emails through its API (it needs Zulip 10.0 or later). " + askAdmin,
	account.CodeZulipUnauthorized:   "Zulip did not accept the sync bot's credentials. " + askAdmin,
	account.CodeZulipBotNotAdmin:    "The sync bot is not an administrator in Zulip. " + askAdmin,
	account.CodeZulipNoPermission:   "The sync bot lacks Zulip's permission to change emails. " + askAdmin,
	account.CodeZulipRejected:       "Zulip refused the request. " + askAdmin,
	account.CodeZulipUnavailable:    "Zulip could not be reached or did not answer in time. Try again in a few minutes; if it keeps happening, tell your administrator.",
	account.CodeZulipRateLimited:    "Zulip is busy (rate limit reached). Try again in %s.",
	account.CodeMattermostFailed:    "Mattermost could not change your email. " + askAdmin,
	account.CodeMattermostUnchanged: "Mattermost accepted the request but your email did not change. " + askAdmin,
	account.CodeInternal:            "Something went wrong inside Account Sync. " + askAdmin,

	account.CodeSessionUnknown:       "Account Sync could not check how you are signed in. " + askAdmin,
	account.CodeOAuthRefused:         "Email changes from OAuth 2.0 apps are turned off on this server. Change your email in Mattermost itself, or ask your system administrator to turn on **Allow OAuth 2.0 apps to change emails** (System Console > Plugins > Account Sync).",
	account.CodeTokenRefused:         "Email and link changes from personal access tokens are turned off on this server. Run the command in Mattermost itself, or ask your system administrator to turn on **Allow OAuth 2.0 apps to change emails** (it covers access tokens too).",
	account.CodeLimitReached:         "You have reached the limit of %s in 24 hours. Your next change is possible %s.",
	account.CodeTooManyAttempts:      "You have tried to change your email %s in the last hour. Your next try is possible %s.",
	account.CodeNotLinked:            "Your Mattermost account is not linked to a Zulip account yet, so Account Sync cannot tell which Zulip account is yours. To link it, type `/account link <your-zulip-address>` (for example %s): the sync bot sends that Zulip account a code to type here.",
	account.CodeZulipAccountMismatch: "Your current email %s belongs to a different Zulip account than the one linked to your Mattermost account, so Account Sync changes neither. Ask your administrator to check your accounts.",
	account.CodeZulipAccountInactive: "Your linked Zulip account is deactivated or no longer exists. Ask your administrator, or remove the link with `/account unlink` and link your current Zulip account with `/account link <your-zulip-address>`.",
	account.CodeZulipLinkedElsewhere: "The Zulip account with the address %s is already linked to another Mattermost account. Ask your administrator to check your accounts.",
	account.CodeZulipRedirect:        "Zulip's address is not set up correctly in Account Sync (Zulip answered with a redirect). " + askAdmin,
	account.CodeAdminOnly:            "Only system administrators can run this: linking everyone, changing or reading another user's email, the Zulip check, the drift report or a domain migration.",
	account.CodeOAuthRefusedAdmin:    "Administrator actions of Account Sync (another user's email or status, linking everyone, the Zulip check, the drift report) are never accepted from OAuth 2.0 apps, whatever the plugin's settings. Use Mattermost itself (web, desktop or mobile app), or a script with a personal access token.",

	account.CodeAddressSlash:         "%s contains a `/`, and Zulip cannot find or check an account by such an address (its API cannot look it up). Choose an address without `/`.",
	account.CodeDomainsMisconfigured: "The administrator's **Allowed email domains** setting for Account Sync is invalid, so no email can be changed until it is corrected. " + askAdmin,

	account.CodeChangeOpen:       "You already have an email change in progress (to %s). Type `/account status` to see where it stands; `/account cancel` drops it if it has not changed anything yet.",
	account.CodeChangedMeanwhile: "Your Mattermost email was changed in another way meanwhile (it is now %s), so Account Sync stopped this change.",
	account.CodeLinkExpired:      "The confirmation link Mattermost mailed to %s was not opened within 24 hours, so the change expired.",
	account.CodeCancelled:        "You cancelled this change.",
	account.CodeLinkChanged:      "The link between your Mattermost and Zulip accounts changed while this change waited, so Account Sync did not change Zulip.",
	account.CodeGaveUp:           "Zulip could not be reached for too long, so Account Sync stopped trying. Try again later; if it keeps happening, tell your administrator.",

	account.CodeRollbackLinkExpired: "The confirmation link that puts your old address back in Mattermost was not opened within 24 hours. " + askAdmin,
	account.CodeSyncTurnedOff:       "Your administrator turned Zulip sync off while the change waited for Zulip, so it was not made (it was to be made in both systems or not at all). Type `/account email` again to change your Mattermost email alone.",
	account.CodeUserDeactivated:     "This Mattermost account is deactivated, so its email is not changed. A system administrator can reactivate it first (System Console > Users).",
	account.CodeUserUnreadable:      "Account Sync could not read your Mattermost account. " + askAdmin,
	account.CodeZulipDummyAddress:   "%s has the form Zulip uses for an account's number (`user<number>@<Zulip host>`), not a real address: Zulip would take it for that account. Give your real email address.",
}

// Failure is the text of a failure on its own, without a change around it
// (a gate's refusal, an HTTP error).
func Failure(f *account.Failure) string { return failureText(account.Result{Failure: f}, f) }

// Refusal is the reply when a gate refuses a command; changes says the
// command would have changed something.
func Refusal(f *account.Failure, changes bool) string {
	if changes {
		return Failure(f) + nothingChanged
	}
	return Failure(f)
}

const nothingChanged = " Nothing was changed."

// failureText words f for the result r it stopped: the code's text with its
// fact, taken from f and from r (what was typed, the change, the open
// change that stopped it).
func failureText(r account.Result, f *account.Failure) string {
	if f == nil {
		return failureTexts[account.CodeInternal]
	}
	text, ok := failureTexts[f.Code]
	if !ok {
		return failureTexts[account.CodeInternal]
	}
	if !strings.Contains(text, "%s") {
		return text
	}
	if f.Code == account.CodeLimitReached || f.Code == account.CodeTooManyAttempts {
		return fmt.Sprintf(text, limitCount(f), whenText(f.Until, now(r)))
	}
	return fmt.Sprintf(text, failureArg(r, f))
}

// failureArg is the fact a code's text names.
func failureArg(r account.Result, f *account.Failure) string {
	switch f.Code {
	case account.CodeAddressInvalid, account.CodeAddressSlash:
		return code(r.Input)
	case account.CodeNotLinked:
		return code("/account link " + r.Change.OldEmail)
	case account.CodeSameAddress, account.CodeZulipAccountMismatch, account.CodeZulipLinkedElsewhere:
		return code(r.Change.OldEmail)
	case account.CodeManagedBySSO:
		return authServiceName(f.Detail)
	case account.CodeZulipRateLimited:
		return waitText(f.RetryAfter)
	case account.CodeChangedMeanwhile:
		return code(f.Detail)
	case account.CodeMigrationState:
		return f.Detail
	case account.CodeChangeOpen:
		if r.Open != nil {
			return code(r.Open.NewEmail)
		}
		return "another address"
	default:
		return code(r.Change.NewEmail)
	}
}

// lastErrorText is why the change stopped or waits: the result's failure,
// else the record's last error, rendered now from its code and facts; ""
// when there is neither.
func lastErrorText(r account.Result) string {
	if r.Failure != nil {
		return failureText(r, r.Failure)
	}
	if le := r.Change.LastError; le != nil {
		return storedErrorText(r.Change, le)
	}
	return ""
}

// StoredError words a record's last error, "" when it has none: for the
// HTTP API, whose records carry the text beside the code.
func StoredError(ch account.Change) string {
	if ch.LastError == nil {
		return ""
	}
	return storedErrorText(ch, ch.LastError)
}

// storedErrorText words a record's last error from its code and facts. A
// record saved before codes carried every fact kept its text: it is shown
// as it was saved (a rate limit's wait, say, lived only there).
func storedErrorText(ch account.Change, le *account.LastError) string {
	if le.Text != "" {
		return le.Text
	}
	f := &account.Failure{Code: le.Code, Detail: le.Detail, RetryAfter: le.RetryAfter}
	return failureText(account.Result{Change: ch}, f)
}

func limitCount(f *account.Failure) string {
	switch {
	case f.Code == account.CodeTooManyAttempts:
		return fmt.Sprintf("%d times", f.Limit)
	case f.Limit == 1:
		return "1 email change"
	default:
		return fmt.Sprintf("%d email changes", f.Limit)
	}
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
