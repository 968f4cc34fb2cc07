package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// GET /changes pages newest first and answers an empty list, not an error
// or a crash, for a page past the end, however far.
func TestListChangesRoute(t *testing.T) {
	p, _ := newTestPlugin(t, configuration{})
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	p.store = store.New(&pluginapi.MemoryStore{})
	now := time.Now()
	for i, id := range []string{"older", "newer"} {
		if err := p.store.SaveChange(context.Background(), &account.Change{ID: id, UserID: "u-" + id, State: account.StateDone, CreatedAt: now.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	for query, want := range map[string]string{
		"per_page=1":                            `["newer"]`,
		"page=1&per_page=1":                     `["older"]`,
		"state=failed":                          `[]`,
		"page=2&per_page=1":                     `[]`,
		"page=9223372036854775807&per_page=200": `[]`,
	} {
		rec := httptest.NewRecorder()
		p.handleListChanges(rec, httptest.NewRequest(http.MethodGet, "/changes?"+query, nil))
		var body struct {
			Changes []struct {
				ID string `json:"id"`
			} `json:"changes"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Changes == nil {
			t.Fatalf("%s: HTTP %d %s", query, rec.Code, rec.Body)
		}
		got := []string{}
		for _, c := range body.Changes {
			got = append(got, c.ID)
		}
		if js, _ := json.Marshal(got); string(js) != want {
			t.Errorf("%s: %s, want %s", query, js, want)
		}
	}
}
