package scenarios

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// apiCall sends one request to the plugin's API (path below /api/v1) with
// token as the bearer ("" for none) and returns the status, the headers and
// the JSON body.
func apiCall(t *testing.T, token, method, path, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), method, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := decodeJSON(resp.Body, &out); err != nil {
		t.Fatalf("%s %s: HTTP %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, out
}

func emailBody(addr string) string {
	b, _ := json.Marshal(map[string]string{"email": addr})
	return string(b)
}

func assertAPIError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	msg, _ := body["message"].(string)
	if status != wantStatus || body["error"] != wantCode || msg == "" {
		t.Errorf("HTTP %d %v, want %d %s with a message", status, body, wantStatus, wantCode)
	}
}

// The account portal's case, end to end: POST /email as the user, 200 with
// the record when done, 202 when it waits; errors with stable codes; the
// same gates as the command.
func TestAPIChangeEmail(t *testing.T) {
	t.Run("done: 200 with the record", func(t *testing.T) {
		p := newPerson(t)
		newEmail := newAddress()
		status, _, body := apiCall(t, p.client.AuthToken, http.MethodPost, "/email", emailBody(newEmail))
		if status != http.StatusOK {
			t.Fatalf("HTTP %d %v", status, body)
		}
		assertRecord(t, body, map[string]any{
			"user_id": p.user.Id, "requested_by": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
			"state": "done", "mattermost": "changed", "zulip": "changed",
		}, []string{"validate", "check_mattermost", "check_zulip", "apply_mattermost", "sync_zulip"}, "")
		assertEmails(t, p, newEmail, newEmail)
		status, _, st := apiCall(t, p.client.AuthToken, http.MethodGet, "/status", "")
		if status != http.StatusOK || st["id"] != body["id"] || st["state"] != "done" {
			t.Errorf("GET /status: HTTP %d %v", status, st)
		}
	})
	t.Run("waits for the confirmation link: 202", func(t *testing.T) {
		withServerConfig(t,
			func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(true) },
			func(c *model.Config) { c.EmailSettings.RequireEmailVerification = model.NewPointer(false) })
		p := newPerson(t)
		newEmail := newAddress()
		status, _, body := apiCall(t, p.client.AuthToken, http.MethodPost, "/email", emailBody(newEmail))
		if status != http.StatusAccepted || body["state"] != "pending_verification" || body["new_email"] != newEmail {
			t.Errorf("HTTP %d %v, want 202 pending_verification", status, body)
		}
		assertUnchanged(t, p)
	})
	t.Run("Zulip down: 202, saved", func(t *testing.T) {
		p := newPerson(t)
		withFault(t, zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 503})
		status, _, body := apiCall(t, p.client.AuthToken, http.MethodPost, "/email", emailBody(newAddress()))
		if status != http.StatusAccepted || body["state"] != "waiting_for_zulip" {
			t.Errorf("HTTP %d %v, want 202 waiting_for_zulip", status, body)
		}
		assertUnchanged(t, p)
	})
	t.Run("errors", func(t *testing.T) {
		p := newPerson(t)
		other := newPerson(t)
		tok := p.client.AuthToken
		status, _, body := apiCall(t, "", http.MethodPost, "/email", emailBody(newAddress()))
		assertAPIError(t, status, body, http.StatusUnauthorized, "not_authenticated")
		status, _, body = apiCall(t, tok, http.MethodPost, "/email", `{"email": "a@b.org", "x": `+strconv.Quote(strings.Repeat("x", 5000))+`}`)
		assertAPIError(t, status, body, http.StatusRequestEntityTooLarge, "body_too_large")
		status, _, body = apiCall(t, tok, http.MethodPost, "/email", `not json`)
		assertAPIError(t, status, body, http.StatusBadRequest, "bad_request")
		status, _, body = apiCall(t, tok, http.MethodPost, "/email", emailBody("Ann <ann@example.org>"))
		assertAPIError(t, status, body, http.StatusBadRequest, "address_invalid")
		status, _, body = apiCall(t, tok, http.MethodPost, "/email", emailBody(other.email))
		assertAPIError(t, status, body, http.StatusConflict, "taken_in_mattermost")
		status, _, body = apiCall(t, tok, http.MethodGet, "/email", "")
		assertAPIError(t, status, body, http.StatusMethodNotAllowed, "method_not_allowed")
		assertUnchanged(t, p)

		_, c := newMMUser(t, "u", newAddress()) // no Zulip account: not linked
		status, _, body = apiCall(t, c.AuthToken, http.MethodPost, "/email", emailBody(newAddress()))
		assertAPIError(t, status, body, http.StatusForbidden, "not_linked")
		if msg, _ := body["message"].(string); !strings.Contains(msg, "/account link") {
			t.Errorf("the not-linked message does not say how to link: %s", msg)
		}
	})
	t.Run("over the daily limit: 429 with Retry-After", func(t *testing.T) {
		withSettings(t, map[string]any{"MaxChangesPerUserPerDay": "1"})
		p := newPerson(t)
		if status, _, body := apiCall(t, p.client.AuthToken, http.MethodPost, "/email", emailBody(newAddress())); status != http.StatusOK {
			t.Fatalf("first change: HTTP %d %v", status, body)
		}
		status, h, body := apiCall(t, p.client.AuthToken, http.MethodPost, "/email", emailBody(newAddress()))
		assertAPIError(t, status, body, http.StatusTooManyRequests, "limit_reached")
		if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 3600 || s > 24*3600 {
			t.Errorf("Retry-After %q, want the seconds until the next change (about a day)", h.Get("Retry-After"))
		}
	})
	t.Run("OAuth 2.0 app: refused by default, allowed by the setting", func(t *testing.T) {
		p := newPerson(t)
		token := oauthToken(t, p)
		newEmail := newAddress()
		status, _, body := apiCall(t, token, http.MethodPost, "/email", emailBody(newEmail))
		assertAPIError(t, status, body, http.StatusForbidden, "oauth_refused")
		status, _, body = apiCall(t, token, http.MethodGet, "/status", "")
		assertAPIError(t, status, body, http.StatusForbidden, "oauth_refused")
		assertUnchanged(t, p)

		withSettings(t, map[string]any{"AllowOAuthSessions": true})
		status, _, body = apiCall(t, token, http.MethodPost, "/email", emailBody(newEmail))
		if status != http.StatusOK || body["state"] != "done" {
			t.Errorf("HTTP %d %v, want 200 done", status, body)
		}
		assertEmails(t, p, newEmail, newEmail)
	})
}

// System admins change another user's email through the API, with the same
// flow; the user is told by the bot. Others get 403.
func TestAPIAdmin(t *testing.T) {
	p := newPerson(t)
	other := newPerson(t)
	newEmail := newAddress()
	path := "/users/" + p.user.Id + "/email"

	status, _, body := apiCall(t, other.client.AuthToken, http.MethodPost, path, emailBody(newEmail))
	assertAPIError(t, status, body, http.StatusForbidden, "admin_only")
	status, _, body = apiCall(t, other.client.AuthToken, http.MethodGet, "/changes", "")
	assertAPIError(t, status, body, http.StatusForbidden, "admin_only")
	assertUnchanged(t, p)

	admin := w.Bed.Admin.AuthToken
	status, _, body = apiCall(t, admin, http.MethodPost, path, emailBody(newEmail))
	if status != http.StatusOK {
		t.Fatalf("HTTP %d %v", status, body)
	}
	assertRecord(t, body, map[string]any{
		"user_id": p.user.Id, "requested_by": w.Bed.AdminUser.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, nil, "")
	assertEmails(t, p, newEmail, newEmail)
	waitForBotMessage(t, p, "`@"+w.Bed.AdminUser.Username+"`, a system administrator, asked to change your email to `"+newEmail+"`")

	status, _, st := apiCall(t, admin, http.MethodGet, "/users/"+p.user.Id+"/status", "")
	if status != http.StatusOK || st["id"] != body["id"] {
		t.Errorf("GET /users/{id}/status: HTTP %d %v", status, st)
	}
	status, _, list := apiCall(t, admin, http.MethodGet, "/changes?state=done&per_page=1", "")
	changes, _ := list["changes"].([]any)
	if status != http.StatusOK || len(changes) != 1 {
		t.Fatalf("GET /changes: HTTP %d %v", status, list)
	}
	if first, _ := changes[0].(map[string]any); first["id"] != body["id"] {
		t.Errorf("newest done change = %v, want %v", first["id"], body["id"])
	}
	status, _, body = apiCall(t, admin, http.MethodGet, "/changes?per_page=0", "")
	assertAPIError(t, status, body, http.StatusBadRequest, "bad_request")
}
