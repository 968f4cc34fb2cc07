package main

import (
	"net/http"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// httpStatus is the HTTP status of every failure code: the caller's fault
// (4xx), Zulip's (502, 503) or ours (500). TestEveryCodeHasAStatus ranges
// over account.Codes(), so a new code without a status fails the tests.
var httpStatus = map[account.Code]int{
	account.CodeAddressMissing:      http.StatusBadRequest,
	account.CodeAddressTooLong:      http.StatusBadRequest,
	account.CodeAddressInvalid:      http.StatusBadRequest,
	account.CodeAddressSlash:        http.StatusBadRequest,
	account.CodeSameAddress:         http.StatusBadRequest,
	account.CodeDomainNotAllowed:    http.StatusBadRequest,
	account.CodeZulipRefusedAddress: http.StatusBadRequest,
	account.CodeZulipDummyAddress:   http.StatusBadRequest,

	account.CodeSessionUnknown: http.StatusUnauthorized,

	account.CodeOAuthRefused:         http.StatusForbidden,
	account.CodeOAuthRefusedAdmin:    http.StatusForbidden,
	account.CodeTokenRefused:         http.StatusForbidden,
	account.CodeManagedBySSO:         http.StatusForbidden,
	account.CodeBotAccount:           http.StatusForbidden,
	account.CodeUserDeactivated:      http.StatusForbidden,
	account.CodeNotLinked:            http.StatusForbidden,
	account.CodeAdminOnly:            http.StatusForbidden,
	account.CodeZulipAccountInactive: http.StatusForbidden,

	account.CodeTakenInMattermost:    http.StatusConflict,
	account.CodeTakenInZulip:         http.StatusConflict,
	account.CodeZulipAccountMismatch: http.StatusConflict,
	account.CodeZulipLinkedElsewhere: http.StatusConflict,
	account.CodeChangeOpen:           http.StatusConflict,
	account.CodeOfferNotCurrent:      http.StatusConflict,
	account.CodeMigrationDomain:      http.StatusBadRequest,
	account.CodeZulipMovedOn:         http.StatusConflict,
	account.CodeMigrationState:       http.StatusConflict,
	account.CodeMigrationBusy:        http.StatusConflict,
	account.CodeMigrationNotFound:    http.StatusNotFound,
	account.CodeBusy:                 http.StatusConflict,

	account.CodeLimitReached:    http.StatusTooManyRequests,
	account.CodeTooManyAttempts: http.StatusTooManyRequests,

	account.CodeZulipUnavailable: http.StatusServiceUnavailable,
	account.CodeZulipRateLimited: http.StatusServiceUnavailable,

	account.CodeZulipNotConfigured: http.StatusBadGateway,
	account.CodeZulipTooOld:        http.StatusBadGateway,
	account.CodeZulipUnauthorized:  http.StatusBadGateway,
	account.CodeZulipBotNotAdmin:   http.StatusBadGateway,
	account.CodeZulipNoPermission:  http.StatusBadGateway,
	account.CodeZulipRejected:      http.StatusBadGateway,
	account.CodeZulipRedirect:      http.StatusBadGateway,
	account.CodeZulipUserNotFound:  http.StatusBadGateway,

	account.CodeInternal:             http.StatusInternalServerError,
	account.CodeMattermostFailed:     http.StatusInternalServerError,
	account.CodeMattermostUnchanged:  http.StatusInternalServerError,
	account.CodeDomainsMisconfigured: http.StatusInternalServerError, // the admin's setting: a server-side fault
	account.CodeUserUnreadable:       http.StatusInternalServerError,
	account.CodeRollbackLinkExpired:  http.StatusInternalServerError,
	account.CodeChangedMeanwhile:     http.StatusInternalServerError,
	account.CodeLinkExpired:          http.StatusInternalServerError,
	account.CodeGaveUp:               http.StatusInternalServerError,
	account.CodeCancelled:            http.StatusInternalServerError,
	account.CodeLinkChanged:          http.StatusInternalServerError,
	account.CodeSyncTurnedOff:        http.StatusInternalServerError,
}

// statusFor maps a failure code to an HTTP status; an unknown code is ours.
func statusFor(c account.Code) int {
	if s, ok := httpStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}
