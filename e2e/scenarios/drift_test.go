package scenarios

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Issue 15, the drift report on the real server: a change made with
// Mattermost's own API after Account Sync linked the pair shows as changed
// in Mattermost elsewhere, in /account drift and in the CSV; the report
// changes nothing, and users may not read it.
func TestDriftReportShowsAChangeMadeElsewhere(t *testing.T) {
	p := newPerson(t)
	first := newAddress()
	assertContains(t, run(t, p.client, "/account email "+first), "Your email is now `"+first+"` in Mattermost and in Zulip")
	elsewhere := newAddress()
	setEmailAsAdmin(t, p.client, elsewhere) // the System Console's way, past Account Sync
	w.Zulip.ResetRequests()

	reply := run(t, w.Bed.Admin, "/account drift")
	assertContains(t, reply, "changed in Mattermost elsewhere", p.user.Username)
	assertContains(t, run(t, p.client, "/account drift"), "Only system administrators")

	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1/drift.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.Bed.Admin.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var row string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.Contains(l, p.user.Id) {
			row = l
		}
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(row, "mattermost_changed") || !strings.Contains(row, elsewhere) || !strings.Contains(row, first) {
		t.Errorf("CSV %d, row for the user: %q", resp.StatusCode, row)
	}
	if status, _, _ := apiCall(t, p.client.AuthToken, http.MethodGet, "/drift", ""); status != http.StatusForbidden {
		t.Errorf("a user read the report: %d", status)
	}
	// Read-only: both systems as they were, and no change asked of Zulip.
	assertEmails(t, p, elsewhere, first)
	for _, r := range zulipRequests(http.MethodPatch) {
		t.Errorf("the report changed Zulip: %s %s", r.Method, r.Path)
	}
}
