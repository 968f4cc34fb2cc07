package account

import (
	"fmt"
	"time"
)

// Code names why a change stopped. Every code is in codeTable (codes.go),
// which says who can act on it; its text and HTTP status live at the edge.
type Code string

// Failure codes. Input and account problems are the user's to fix; Zulip
// configuration problems are the admin's; unavailability is temporary.
const (
	CodeAddressMissing      Code = "address_missing"
	CodeAddressTooLong      Code = "address_too_long"
	CodeAddressInvalid      Code = "address_invalid"
	CodeSameAddress         Code = "same_address"
	CodeManagedBySSO        Code = "managed_by_sso"
	CodeBotAccount          Code = "bot_account"
	CodeBusy                Code = "change_in_progress"
	CodeTakenInMattermost   Code = "taken_in_mattermost"
	CodeDomainNotAllowed    Code = "domain_not_allowed"
	CodeTakenInZulip        Code = "taken_in_zulip"
	CodeZulipRefusedAddress Code = "zulip_refused_address"
	CodeZulipUserNotFound   Code = "zulip_user_not_found"
	CodeZulipNotConfigured  Code = "zulip_not_configured"
	CodeZulipTooOld         Code = "zulip_too_old"
	CodeZulipUnauthorized   Code = "zulip_unauthorized"
	CodeZulipBotNotAdmin    Code = "zulip_bot_not_admin"
	CodeZulipNoPermission   Code = "zulip_no_email_permission"
	CodeZulipRejected       Code = "zulip_rejected"
	CodeZulipUnavailable    Code = "zulip_unavailable"
	CodeZulipRateLimited    Code = "zulip_rate_limited"
	CodeMattermostFailed    Code = "mattermost_failed"
	CodeMattermostUnchanged Code = "mattermost_unchanged"
	CodeInternal            Code = "internal"

	// Who may ask, and which Zulip account is theirs.
	CodeSessionUnknown       Code = "session_unknown"
	CodeOAuthRefused         Code = "oauth_refused"
	CodeTokenRefused         Code = "access_token_refused"
	CodeLimitReached         Code = "limit_reached"
	CodeTooManyAttempts      Code = "too_many_attempts"
	CodeNotLinked            Code = "not_linked"
	CodeZulipAccountMismatch Code = "zulip_account_mismatch"
	CodeZulipAccountInactive Code = "zulip_account_inactive"
	CodeZulipLinkedElsewhere Code = "zulip_linked_elsewhere"
	CodeZulipRedirect        Code = "zulip_redirect"
	CodeAdminOnly            Code = "admin_only"
	CodeOAuthRefusedAdmin    Code = "oauth_refused_admin" // an OAuth 2.0 app's session asked for an admin-only action

	// An address Zulip's API cannot handle; a plugin setting that cannot work.
	CodeAddressSlash         Code = "address_has_slash"       // Zulip's API cannot look up an address holding "/"
	CodeDomainsMisconfigured Code = "allowed_domains_invalid" // the plugin's allowed-domains setting cannot be used

	// Changes carried on in the background.
	CodeChangeOpen       Code = "change_open"       // another change of the user's is still open
	CodeChangedMeanwhile Code = "changed_meanwhile" // the Mattermost email changed by other means
	CodeLinkExpired      Code = "link_expired"      // the confirmation link was not opened in time
	CodeGaveUp           Code = "retries_exhausted" // Zulip could not be reached for the whole retry time
	CodeCancelled        Code = "cancelled"         // dropped by the user
	CodeLinkChanged      Code = "link_changed"      // the link to Zulip changed while the change was open
	// CodeRollbackLinkExpired: Zulip refused, and the link that puts the old
	// address back in Mattermost was not opened in time.
	CodeRollbackLinkExpired Code = "rollback_link_expired"
	CodeUserDeactivated     Code = "user_deactivated"    // the Mattermost account is deactivated
	CodeUserUnreadable      Code = "user_unreadable"     // the Mattermost account could not be read until the give-up time
	CodeZulipDummyAddress   Code = "zulip_dummy_address" // Zulip's own id-based address form user{ID}@{realm host}
	CodeSyncTurnedOff       Code = "sync_turned_off"     // Zulip sync was turned off while the change waited for Zulip
	CodeOfferNotCurrent     Code = "offer_not_current"   // an offer that is not the user's, was answered already, or no longer holds
	CodeMigrationDomain     Code = "migration_domain"    // a domain migration's domain is not a domain, or both are the same
	CodeMigrationState      Code = "migration_state"     // the migration cannot make that move from where it stands
	CodeMigrationBusy       Code = "migration_busy"      // the migration is in the middle of a batch
	CodeZulipMovedOn        Code = "zulip_moved_on"      // a change made in Zulip elsewhere was changed again there before it was applied
	CodeMigrationNotFound   Code = "migration_not_found" // no domain migration has that id
)

// Failure is why the flow stopped or a step failed. Err is the underlying
// cause for logs; it is never shown to users.
type Failure struct {
	Code Code
	Err  error
	// Detail is a safe, short fact for the message (an auth service name,
	// a Zulip version); empty when there is none.
	Detail string
	// RetryAfter is set when Zulip asked to wait.
	RetryAfter time.Duration
	// Until is when a limit lets the user try again; Limit is that limit.
	Until time.Time
	Limit int
}

func newFailure(code Code, err error) *Failure { return &Failure{Code: code, Err: err} }

func (f *Failure) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("%s: %v", f.Code, f.Err)
	}
	return string(f.Code)
}

func (f *Failure) Unwrap() error { return f.Err }
