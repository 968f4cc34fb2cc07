package reply

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// refused is a refusal of Ann's change for code (nothing stored: no ID).
func refused(code account.Code) account.Result {
	ch := change(account.StateRefused, account.StatusUntouched, account.StatusUntouched)
	ch.ID = ""
	return account.Result{Change: ch, Failure: fail(code), Input: annNew}
}

func with(r account.Result, set func(r *account.Result)) account.Result {
	set(&r)
	return r
}

// The replies to /account email for the results account's tests produce
// (the case names are theirs: service_test.go's TestChangeEmail, and the
// test named after the colon otherwise).
func TestEmailReplies(t *testing.T) {
	waiting := func(code account.Code) account.Result {
		r := stopped(account.StateWaitingForZulip, account.StatusUntouched, account.StatusUntouched, code, "")
		r.Change.NextAttemptAt = ptr(testNow.Add(30 * time.Second))
		return r
	}
	for _, tc := range []struct {
		name         string
		res          account.Result
		want, absent []string
	}{
		{"happy path changes both and links by verified email", account.Result{Change: change(account.StateDone, account.StatusChanged, account.StatusChanged)},
			[]string{"`ann@new.example.org` in Mattermost and in Zulip", "it was `ann@example.org`"}, nil},
		{"sync off changes Mattermost only", account.Result{Change: change(account.StateDone, account.StatusChanged, account.StatusDisabled)},
			[]string{"Zulip sync is turned off"}, nil},
		{"empty address", with(refused(account.CodeAddressMissing), func(r *account.Result) { r.Input, r.Change.NewEmail = "", "" }),
			[]string{"Please give the new address"}, nil},
		{"display name refused", with(refused(account.CodeAddressInvalid), func(r *account.Result) { r.Input, r.Change.NewEmail = "Ann <ann@new.example.org>", "" }),
			[]string{"not a valid email address", "Nothing was changed"}, nil},
		{"markdown injection is shown inert", with(refused(account.CodeAddressInvalid), func(r *account.Result) { r.Input = "[click](http://evil.example)@x.org" }),
			[]string{"`[click](http://evil.example)@x.org`"}, nil},
		{"same address other case", with(refused(account.CodeSameAddress), func(r *account.Result) { r.Input, r.Change.NewEmail = "ANN@example.org", ann }),
			[]string{"already is `ann@example.org`"}, []string{"Nothing was changed"}},
		{"SSO user refused", with(refused(account.CodeManagedBySSO), func(r *account.Result) { r.Failure.Detail = "gitlab" }),
			[]string{"signs in with GitLab"}, nil},
		{"taken in Mattermost", refused(account.CodeTakenInMattermost), []string{"Another Mattermost account already uses `ann@new.example.org`"}, nil},
		{"taken in Zulip", refused(account.CodeTakenInZulip), []string{"Another Zulip account"}, nil},
		{"sync on but not configured", refused(account.CodeZulipNotConfigured), []string{"not set up", "ask your system administrator"}, nil},
		{"zulip too old", refused(account.CodeZulipTooOld), []string{"Zulip 10.0 or later"}, nil},
		{"zulip down before anything", waiting(account.CodeZulipUnavailable),
			[]string{"Zulip cannot be reached right now, so nothing was changed yet", "change to `ann@new.example.org` is saved", "in both systems or not at all", "direct message", "`/account cancel`"}, nil},
		{"wrong api key", refused(account.CodeZulipUnauthorized), []string{"credentials", "ask your system administrator"}, nil},
		{"no Zulip account under the email: not linked, told how to link", refused(account.CodeNotLinked),
			[]string{"not linked to a Zulip account yet", "`/account link ann@example.org`", "Nothing was changed"}, nil},
		{"bot lacks permission (probe)", refused(account.CodeZulipNoPermission), []string{"lacks Zulip's permission"}, nil},
		{"redirect at the probe is a configuration problem", refused(account.CodeZulipRedirect), []string{"redirect", "ask your system administrator", "Nothing was changed"}, nil},
		{"rate limited before anything", with(waiting(account.CodeZulipRateLimited), func(r *account.Result) { r.Failure.RetryAfter = 28700 * time.Millisecond }),
			[]string{"Zulip is busy right now, so nothing was changed yet", "is saved"}, nil},
		{"domain not allowed by Mattermost", stopped(account.StateFailed, account.StatusUntouched, account.StatusUntouched, account.CodeDomainNotAllowed, ""),
			[]string{"certain domains", "Nothing was changed"}, nil},
		{"verification required holds everything", account.Result{Change: change(account.StatePendingVerification, account.StatusPending, account.StatusUntouched)},
			[]string{"confirmation link to `ann@new.example.org`", "Once you open it, Account Sync changes Zulip too and sends you a direct message"}, nil},
		{"update accepted but email kept", stopped(account.StateFailed, account.StatusUntouched, account.StatusUntouched, account.CodeMattermostUnchanged, ""),
			[]string{"did not change"}, nil},
		{"zulip refuses the real patch: Mattermost rolled back", stopped(account.StateRolledBack, account.StatusRolledBack, account.StatusUntouched, account.CodeTakenInZulip, ""),
			[]string{"put back to `ann@example.org`", "Another Zulip account"}, nil},
		{"rate limited at the real patch: Mattermost kept, Zulip retried later",
			with(stopped(account.StateMattermostChanged, account.StatusChanged, account.StatusUntouched, account.CodeZulipRateLimited, ""), func(r *account.Result) {
				r.Change.NextAttemptAt = ptr(testNow.Add(30 * time.Second))
			}),
			[]string{"Your Mattermost email is now `ann@new.example.org`", "tries Zulip again", "direct message"}, []string{"put back to", "Nothing was changed"}},
		{"rollback fails: flagged loudly", stopped(account.StateNeedsAttention, account.StatusRollbackFailed, account.StatusUntouched, account.CodeTakenInZulip, ""),
			[]string{"Your accounts now differ", "Mattermost has `ann@new.example.org` but Zulip still has `ann@example.org`"}, nil},

		{"TestAdminActionsRefuseOAuth: another user's email through an OAuth app", refused(account.CodeOAuthRefusedAdmin),
			[]string{"never accepted from OAuth 2.0 apps", "personal access token"}, nil},
		{"TestInvalidAllowedDomainsRefuseEveryChange", refused(account.CodeDomainsMisconfigured),
			[]string{"**Allowed email domains** setting", "is invalid", askAdmin, "Nothing was changed."}, nil},
		{"TestSessionGate: no session", refused(account.CodeSessionUnknown), []string{"could not check how you are signed in"}, nil},
		{"TestSessionGate: OAuth app refused by default", refused(account.CodeOAuthRefused),
			[]string{"OAuth 2.0 apps", "Allow OAuth 2.0 apps to change emails", "Nothing was changed"}, nil},
		{"TestSessionGate: personal access token refused by default", refused(account.CodeTokenRefused),
			[]string{"personal access tokens", "Nothing was changed"}, nil},
		{"TestDailyLimit", with(refused(account.CodeLimitReached), func(r *account.Result) {
			r.Failure.Limit, r.Failure.Until = 2, testNow.Add(24*time.Hour)
			r.Change.UpdatedAt = testNow.Add(2 * time.Hour)
		}), []string{"limit of 2 email changes in 24 hours", "next change is possible in about 22 hours (after 2026-11-24 10:00 UTC)", "Nothing was changed"}, nil},
		{"TestAttemptsReachingZulipAreLimited", with(refused(account.CodeTooManyAttempts), func(r *account.Result) {
			r.Failure.Limit, r.Failure.Until = 20, testNow.Add(time.Hour)
		}), []string{"20 times in the last hour"}, nil},
		{"TestOneOpenChangePerUser", with(refused(account.CodeChangeOpen), func(r *account.Result) {
			open := change(account.StateWaitingForZulip, account.StatusUntouched, account.StatusUntouched)
			r.Open, r.Change.NewEmail = &open, "third@example.org"
		}), []string{"already have an email change in progress", "`ann@new.example.org`", "`/account status`", "`/account cancel`", "Nothing was changed"}, nil},
		{"TestLostAnswerIsSettledByTheJob", account.Result{Change: change(account.StateMattermostChanged, account.StatusChanged, account.StatusUnknown)},
			[]string{"Your Mattermost email is now `" + annNew + "`", "Zulip did not answer clearly in time", "direct message", "Reference"}, nil},
		{"TestSlashAddressRefusedBeforeEitherSystem", with(refused(account.CodeAddressSlash), func(r *account.Result) { r.Input, r.Change.NewEmail = "Ann/New@example.org", "" }),
			[]string{"`Ann/New@example.org` contains a `/`", "Zulip cannot", "Choose an address without `/`", "Nothing was changed."}, []string{"administrator"}},
		{"TestZulipIDAddressRefused", with(refused(account.CodeZulipDummyAddress), func(r *account.Result) { r.Input, r.Change.NewEmail = "User10@Zulip.Test", "user10@zulip.test" }),
			[]string{"`user10@zulip.test`", "Zulip uses for an account's number", "real email address", "Nothing was changed"}, []string{"in Mattermost and in Zulip"}},
		{"TestDeactivatedUsers: an admin's change is refused", refused(account.CodeUserDeactivated), []string{"deactivated", "reactivate"}, nil},
		{"TestNoRecordNoChange: refused", refused(account.CodeInternal), []string{"Nothing was changed"}, nil},
		{"TestNoRecordNoChange: failed", stopped(account.StateFailed, account.StatusUntouched, account.StatusUntouched, account.CodeInternal, ""), []string{"Nothing was changed"}, nil},
		{"TestAdminCausesGoToTheLogNotTheReport", with(refused(account.CodeZulipUnauthorized), func(r *account.Result) {
			r.Change.ID = "c1"
			r.Failure.Err = errors.New("zulip: 401 UNAUTHORIZED: Invalid API key")
		}), []string{"(Reference: `c1`)"}, []string{"Invalid API key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertWords(t, Email(tc.res), tc.want, tc.absent)
		})
	}
}

func TestReferenceOnlyWhereAnAdminNeedsIt(t *testing.T) {
	tests := []struct {
		name string
		res  account.Result
		want bool
	}{
		{"done", account.Result{Change: account.Change{ID: "c1", State: account.StateDone}}, false},
		{"user-side refusal", account.Result{Change: account.Change{ID: "c1", State: account.StateRefused}, Failure: fail(account.CodeTakenInZulip)}, false},
		{"admin-side refusal", account.Result{Change: account.Change{ID: "c1", State: account.StateRefused}, Failure: fail(account.CodeZulipNoPermission)}, true},
		{"refused before a record", account.Result{Change: account.Change{State: account.StateRefused}, Failure: fail(account.CodeZulipNotConfigured)}, false},
		{"rolled back", account.Result{Change: account.Change{ID: "c1", State: account.StateRolledBack}, Failure: fail(account.CodeZulipUnavailable)}, true},
		{"pending", account.Result{Change: account.Change{ID: "c1", State: account.StatePendingVerification}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Contains(Email(tc.res), "(Reference: `c1`)"); got != tc.want {
				t.Errorf("reference shown = %v, want %v: %s", got, tc.want, Email(tc.res))
			}
		})
	}
}

// An admin's report says Zulip changed only when it did.
func TestEmailForNamesWhatChanged(t *testing.T) {
	both := account.Result{Change: change(account.StateDone, account.StatusChanged, account.StatusChanged)}
	if got := EmailFor(both, "ann"); !strings.Contains(got, "is now `"+annNew+"` in Mattermost and in Zulip") {
		t.Errorf("report %s", got)
	}
	mmOnly := both
	mmOnly.Change.Zulip = account.StatusDisabled
	got := EmailFor(mmOnly, "ann")
	if strings.Contains(got, "and in Zulip") || !strings.Contains(got, "Zulip was not changed") {
		t.Errorf("report %s", got)
	}
	refusal := EmailFor(refused(account.CodeUserDeactivated), "ann")
	assertWords(t, refusal, []string{"The email of `@ann` was not changed as asked: This Mattermost account is deactivated"}, nil)
}
