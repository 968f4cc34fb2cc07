package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// emailRequest is the body of POST /email and POST /users/{id}/email.
type emailRequest struct {
	Email string `json:"email"`
}

// handleChangeEmail is POST /email: the caller's own change, through the
// same service and gates as /account email.
func (p *Plugin) handleChangeEmail(w http.ResponseWriter, r *http.Request) {
	p.changeEmail(w, r, account.Request{UserID: userOf(r), SessionID: sessionOf(r)})
}

func (p *Plugin) changeEmail(w http.ResponseWriter, r *http.Request, req account.Request) {
	body, ok := readEmailRequest(w, r)
	if !ok {
		return
	}
	req.NewEmail = body.Email
	res := p.service().ChangeEmail(context.WithoutCancel(r.Context()), req)
	writeResult(w, res)
}

// readEmailRequest decodes a small JSON body, answering 413 or 400 itself.
func readEmailRequest(w http.ResponseWriter, r *http.Request) (emailRequest, bool) {
	return readJSONBody[emailRequest](w, r)
}

// readJSONBody decodes a small JSON body with no unknown fields, answering
// 413 or 400 itself.
func readJSONBody[T any](w http.ResponseWriter, r *http.Request) (T, bool) {
	var body T
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	switch {
	case err != nil:
		writeJSONError(w, http.StatusBadRequest, "bad_request", reply.APIBodyUnreadable)
		return body, false
	case len(raw) > maxBodyBytes:
		writeJSONError(w, http.StatusRequestEntityTooLarge, "body_too_large", reply.APIBodyTooLarge)
		return body, false
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSONError(w, http.StatusBadRequest, "bad_request", reply.APIBodyInvalid)
		return body, false
	}
	return body, true
}

// writeResult answers a change: 200 when done, 202 when it waits (a
// confirmation link, Zulip), an error status otherwise.
func writeResult(w http.ResponseWriter, res account.Result) {
	switch res.Change.State {
	case account.StateDone:
		writeJSON(w, http.StatusOK, apiChange(res.Change))
	case account.StatePendingVerification, account.StateWaitingForZulip, account.StateMattermostChanged:
		writeJSON(w, http.StatusAccepted, apiChange(res.Change))
	case account.StateNeedsAttention:
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "needs_attention", Message: reply.Email(res), ChangeID: res.Change.ID})
	default:
		f := res.Failure
		if f == nil {
			f = &account.Failure{Code: account.CodeInternal}
		}
		id := ""
		if res.Change.State != account.StateRefused {
			id = res.Change.ID // stored: the caller can look it up
		}
		writeFailureText(w, f, reply.Email(res), id)
	}
}

// errorBody is every error answer: a stable code and a safe text.
type errorBody struct {
	Error    string `json:"error"`
	Message  string `json:"message"`
	ChangeID string `json:"change_id,omitempty"`
}

// writeFailure answers a refusal that stored nothing.
func writeFailure(w http.ResponseWriter, f *account.Failure) {
	writeFailureText(w, f, reply.Failure(f), "")
}

func writeFailureText(w http.ResponseWriter, f *account.Failure, text, changeID string) {
	status := statusFor(f.Code)
	if status == http.StatusTooManyRequests && !f.Until.IsZero() {
		secs := math.Ceil(time.Until(f.Until).Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(int(max(secs, 1))))
	}
	writeJSON(w, status, errorBody{Error: string(f.Code), Message: text, ChangeID: changeID})
}

// handleStatus is GET /status: the caller's open or last change.
func (p *Plugin) handleStatus(w http.ResponseWriter, r *http.Request) {
	p.writeLatest(w, userOf(r))
}

func (p *Plugin) writeLatest(w http.ResponseWriter, userID string) {
	ch, ok, err := p.service().LatestChange(userID)
	switch {
	case err != nil:
		p.client.Log.Error("Account Sync: reading the latest change", "user_id", userID, "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "internal", reply.APIChangesUnread)
	case !ok:
		writeJSONError(w, http.StatusNotFound, "no_changes", reply.APINoChanges)
	default:
		writeJSON(w, http.StatusOK, apiChange(ch))
	}
}
