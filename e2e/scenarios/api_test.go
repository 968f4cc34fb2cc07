package scenarios

import (
	"net/http"
	"testing"
)

// The plugin's HTTP API answers only users Mattermost authenticated.
func TestPluginAPIRequiresALogin(t *testing.T) {
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1/me/changes/latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A forged identity header must not pass for a login.
	req.Header.Set("Mattermost-User-ID", newPerson(t).user.Id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := decodeJSON(resp.Body, &body); err != nil {
		t.Fatalf("HTTP %d, body not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "not_authenticated" {
		t.Errorf("HTTP %d %v, want 401 not_authenticated", resp.StatusCode, body)
	}

	// A user who never changed anything gets a clear 404.
	p := newPerson(t)
	req, _ = http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1/me/changes/latest", nil)
	req.Header.Set("Authorization", "Bearer "+p.client.AuthToken)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("HTTP %d, want 404 for a user without changes", resp2.StatusCode)
	}

	// The link endpoint: no login, no answer; a user never linked gets 404.
	if body, status := pluginGet(t, nil, "/me/link"); status != http.StatusUnauthorized || body["error"] != "not_authenticated" {
		t.Errorf("GET /me/link without a login: HTTP %d %v, want 401 not_authenticated", status, body)
	}
	assertNotLinked(t, p.client)
}
