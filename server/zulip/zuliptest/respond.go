package zuliptest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// Error codes the emulator uses (Zulip's ErrorCode names).
const (
	CodeBadRequest   = "BAD_REQUEST"
	CodeUnauthorized = "UNAUTHORIZED"
	CodeRateLimitHit = "RATE_LIMIT_HIT"
	CodeMissingParam = "REQUEST_VARIABLE_MISSING"
)

// Messages of the errors in CONTRACT.md's table (Zulip's English texts).
const (
	MsgMethodNotAllowed   = "Method Not Allowed"
	MsgNoSuchUser         = "No such user"
	MsgInsufficientPerm   = "Insufficient permission"
	MsgNotAuthorized      = "User not authorized to change user emails"
	MsgInvalidNewEmail    = "Invalid new email address."
	MsgAlreadyHasAccount  = "New email value error: Already has an account."
	MsgAccountDeactivated = "New email value error: Account has been deactivated."
	MsgReservedSystemBots = "New email value error: Reserved for system bots."
	MsgRateLimit          = "API usage exceeded rate limit"
	MsgInvalidAPIKey      = "Invalid API key"
	MsgMalformedAPIKey    = "Malformed API key"
	MsgUserDeactivated    = "Account is deactivated"
	MsgRealmDeactivated   = "This organization has been deactivated"
	MsgMissingAuth        = "Missing 'Authorization' header"
	MsgNotBasicAuth       = "This endpoint requires HTTP basic authentication."
	MsgNotFound           = "Not Found"
)

// Messages of POST /messages (Zulip's English texts). Those with a verb
// take the argument named.
const (
	MsgMissingArgument      = "Missing '%s' argument"
	MsgInvalidType          = "Invalid type"
	MsgRecipientsType       = "Invalid data type for recipients"
	MsgRecipientsMixed      = "Recipient lists may contain emails or user IDs, but not both."
	MsgNoRecipients         = "Message must have recipients"
	MsgInvalidUserID        = "Invalid user ID %d"
	MsgInvalidEmail         = "Invalid email '%s'"
	MsgEmptyMessage         = "Message must not be empty"
	MsgNullBytes            = "Message must not contain null bytes"
	MsgRecipientDeactivated = "'%s' is no longer using Zulip."
)

func writeJSON(w http.ResponseWriter, status int, body map[string]any) {
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"result":"error","msg":"Internal server error","code":"BAD_REQUEST"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// writeError answers a Zulip error: {"result":"error","msg":...,"code":...}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorFields(w, status, code, msg, nil)
}

// writeErrorFields is writeError with extra fields (e.g. var_name).
func writeErrorFields(w http.ResponseWriter, status int, code, msg string, fields map[string]any) {
	body := map[string]any{"result": "error", "msg": msg, "code": code}
	for k, v := range fields {
		body[k] = v
	}
	writeJSON(w, status, body)
}

// writeUnauthorized answers 401 with Zulip's WWW-Authenticate header.
func writeUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="zulip"`)
	writeError(w, http.StatusUnauthorized, CodeUnauthorized, msg)
}

// writeRateLimited answers 429 with float retry-after, in the body and the
// Retry-After header.
func writeRateLimited(w http.ResponseWriter, retryAfter float64) {
	if retryAfter < 0 {
		retryAfter = 0
	}
	f := pyFloat(retryAfter)
	w.Header().Set("Retry-After", f)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"result":      "error",
		"msg":         MsgRateLimit,
		"code":        CodeRateLimitHit,
		"retry-after": json.RawMessage(f),
	})
}

// writeMethodNotAllowed answers like Zulip's rest_dispatch: no code.
func writeMethodNotAllowed(w http.ResponseWriter, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
		"result":          "error",
		"msg":             MsgMethodNotAllowed,
		"allowed_methods": allowed,
	})
}

// writeSuccess answers {"result":"success","msg":""} plus fields, listing
// ignored parameters when the feature level has that field.
func writeSuccess(w http.ResponseWriter, level int, ignored []string, fields map[string]any) {
	body := map[string]any{"result": "success", "msg": ""}
	for k, v := range fields {
		body[k] = v
	}
	if len(ignored) > 0 && level >= 167 {
		sort.Strings(ignored)
		body["ignored_parameters_unsupported"] = ignored
	}
	writeJSON(w, http.StatusOK, body)
}
