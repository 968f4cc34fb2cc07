package reply

import (
	"encoding/json"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// review2: a record saved by addbcf4 after Zulip's 429 kept the rendered
// wait in last_error.text ("Try again in 29 seconds.") but no retry_after
// (the field is new). It is now re-worded from its code alone, and the
// wait becomes "a few seconds": /account status tells the user something
// the record never said.
func TestReview2OldRateLimitedRecordKeepsItsWait(t *testing.T) {
	const old = `{"id":"c1","user_id":"u1","old_email":"ann@example.org","new_email":"ann@new.example.org","state":"mattermost_changed",
		"mattermost":"changed","zulip":"untouched","steps":[],"attempts":1,"next_attempt_at":"2026-11-23T10:00:30Z","give_up_at":"2026-11-24T10:00:00Z",
		"last_error":{"code":"zulip_rate_limited","text":"Zulip is busy (rate limit reached). Try again in 29 seconds.","at":"2026-11-23T10:00:00Z"},
		"created_at":"2026-11-23T10:00:00Z","updated_at":"2026-11-23T10:00:00Z","version":2}`
	var ch account.Change
	if err := json.Unmarshal([]byte(old), &ch); err != nil {
		t.Fatal(err)
	}
	assertWords(t, Status(account.StatusReport{Change: ch, Found: true, Now: testNow}),
		[]string{"Last answer: Zulip is busy (rate limit reached). Try again in 29 seconds."}, []string{"a few seconds"})
}
