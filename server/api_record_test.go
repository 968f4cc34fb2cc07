package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The HTTP API's records carry their last error's text beside its code, as
// they did when records stored it: a portal shows why a change waits.
func TestAPIRecordsWordTheLastError(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	waiting := account.Change{ID: "c1", State: account.StateWaitingForZulip, OldEmail: "ann@example.org", NewEmail: "ann@new.example.org",
		LastError: &account.LastError{Code: account.CodeZulipUnavailable, At: at}}
	w := httptest.NewRecorder()
	writeResult(w, account.Result{Change: waiting, Failure: &account.Failure{Code: account.CodeZulipUnavailable}})
	var rec struct {
		State     string `json:"state"`
		LastError struct {
			Code string `json:"code"`
			Text string `json:"text"`
		} `json:"last_error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if w.Code != 202 || rec.State != "waiting_for_zulip" || rec.LastError.Code != "zulip_unavailable" || !strings.Contains(rec.LastError.Text, "Zulip could not be reached") {
		t.Errorf("%d %+v", w.Code, rec)
	}
	if waiting.LastError.Text != "" {
		t.Error("wording the answer changed the record")
	}
	old := waiting
	old.LastError = &account.LastError{Code: account.CodeZulipRateLimited, Text: "Zulip is busy (rate limit reached). Try again in 29 seconds.", At: at}
	if got := apiChange(old).LastError.Text; got != old.LastError.Text {
		t.Errorf("an old record's text %q, want it as saved", got)
	}
	if got := apiChanges([]account.Change{{ID: "c2"}}); len(got) != 1 || got[0].LastError != nil {
		t.Errorf("a record without an error: %+v", got)
	}
}
