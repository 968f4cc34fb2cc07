package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

func TestStatusFor(t *testing.T) {
	for code, want := range map[account.Code]int{
		account.CodeAddressInvalid: 400, account.CodeSameAddress: 400, account.CodeDomainNotAllowed: 400,
		account.CodeSessionUnknown: 401,
		account.CodeOAuthRefused:   403, account.CodeTokenRefused: 403, account.CodeManagedBySSO: 403, account.CodeBotAccount: 403, account.CodeNotLinked: 403, account.CodeAdminOnly: 403,
		account.CodeTakenInMattermost: 409, account.CodeTakenInZulip: 409, account.CodeZulipAccountMismatch: 409, account.CodeChangeOpen: 409, account.CodeBusy: 409,
		account.CodeLimitReached: 429, account.CodeTooManyAttempts: 429,
		account.CodeZulipUnavailable: 503, account.CodeZulipRateLimited: 503,
		account.CodeZulipUnauthorized: 502, account.CodeZulipRedirect: 502, account.CodeZulipTooOld: 502,
		account.CodeInternal: 500, account.CodeMattermostFailed: 500,
		account.CodeAddressSlash: 400, account.CodeDomainsMisconfigured: 500, // the admin's setting: a server-side fault
		account.CodeZulipDummyAddress: 400, account.CodeUserDeactivated: 403, account.CodeOAuthRefusedAdmin: 403,
		account.CodeUserUnreadable: 500, account.CodeRollbackLinkExpired: 500,
	} {
		if got := statusFor(code); got != want {
			t.Errorf("%s -> %d, want %d", code, got, want)
		}
	}
}

func TestEveryCodeHasAStatus(t *testing.T) {
	for _, c := range account.Codes() {
		if _, ok := httpStatus[c]; !ok {
			t.Errorf("no HTTP status for %s", c)
		}
	}
	if len(httpStatus) != len(account.Codes()) {
		t.Errorf("httpStatus has %d codes, account has %d", len(httpStatus), len(account.Codes()))
	}
	if statusFor("no_such_code") != 500 {
		t.Error("an unknown code is not a server error")
	}
}

func TestWriteResultStatuses(t *testing.T) {
	for _, tc := range []struct {
		state account.State
		f     *account.Failure
		want  int
	}{
		{account.StateDone, nil, 200},
		{account.StatePendingVerification, nil, 202},
		{account.StateWaitingForZulip, &account.Failure{Code: account.CodeZulipUnavailable}, 202},
		{account.StateMattermostChanged, &account.Failure{Code: account.CodeZulipRateLimited}, 202},
		{account.StateRefused, &account.Failure{Code: account.CodeTakenInZulip}, 409},
		{account.StateRolledBack, &account.Failure{Code: account.CodeZulipRefusedAddress}, 400},
		{account.StateNeedsAttention, &account.Failure{Code: account.CodeZulipUnavailable}, 500},
	} {
		rec := httptest.NewRecorder()
		writeResult(rec, account.Result{Change: account.Change{ID: "c1", State: tc.state}, Failure: tc.f})
		if rec.Code != tc.want {
			t.Errorf("%s: HTTP %d, want %d: %s", tc.state, rec.Code, tc.want, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	writeResult(rec, account.Result{Change: account.Change{ID: "c1", State: account.StateRefused}, Failure: &account.Failure{Code: account.CodeLimitReached, Limit: 1, Until: time.Now().Add(time.Hour)}})
	if ra := rec.Header().Get("Retry-After"); rec.Code != 429 || (ra != "3600" && ra != "3599") {
		t.Errorf("limit: HTTP %d, Retry-After %q", rec.Code, ra)
	}
	if strings.Contains(rec.Body.String(), "c1") {
		t.Errorf("a refusal that was never stored names a change id: %s", rec.Body)
	}
}

func TestReadEmailRequest(t *testing.T) {
	for body, want := range map[string]int{
		`{"email": "a@b.org"}`:             0,
		`{"email": "a@b.org", "other": 1}`: 400,
		`nope`:                             400,
		`{"email": "` + strings.Repeat("a", 5000) + `"}`: 413,
	} {
		rec := httptest.NewRecorder()
		got, ok := readEmailRequest(rec, httptest.NewRequest(http.MethodPost, "/api/v1/email", strings.NewReader(body)))
		if want == 0 {
			if !ok || got.Email != "a@b.org" {
				t.Errorf("%.40s: %v %+v", body, ok, got)
			}
			continue
		}
		if ok || rec.Code != want {
			t.Errorf("%.40s: ok %v, HTTP %d, want %d", body, ok, rec.Code, want)
		}
	}
}
