package reply

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The replies to /account status for the reports account's TestStatus
// and TestRollbackWaitsForItsConfirmationLink get.
func TestStatusTexts(t *testing.T) {
	if s := Status(account.StatusReport{Now: testNow}); !strings.Contains(s, "no email change on record") {
		t.Errorf("no change: %s", s)
	}
	waiting := stopped(account.StateWaitingForZulip, account.StatusUntouched, account.StatusUntouched, account.CodeZulipUnavailable, "").Change
	waiting.NextAttemptAt, waiting.GiveUpAt = ptr(testNow.Add(30*time.Second)), ptr(testNow.Add(24*time.Hour))
	assertWords(t, Status(account.StatusReport{Change: waiting, Found: true, Now: testNow}),
		[]string{"`ann@new.example.org` is saved and waits for Zulip", "still `ann@example.org`", "Next try in less than a minute", "keeps trying until 2026-11-24 10:00 UTC",
			"`/account cancel`", "c1", "Last answer: Zulip could not be reached or did not answer in time"}, nil)

	done := change(account.StateDone, account.StatusChanged, account.StatusChanged)
	assertWords(t, Status(account.StatusReport{Change: done, Found: true, Now: testNow}), []string{"Your last email change: Your email change is complete"}, nil)

	rollback := stopped(account.StateRollbackPendingVerification, account.StatusRollbackPending, account.StatusUntouched, account.CodeTakenInZulip, "").Change
	assertWords(t, Status(account.StatusReport{Change: rollback, Found: true, Now: testNow}), []string{"open that link", "Another Zulip account already uses"}, nil)

	unread := Status(account.StatusReport{Failure: &account.Failure{Code: account.CodeInternal}, Now: testNow})
	assertWords(t, unread, []string{"Something went wrong inside Account Sync", askAdmin}, nil)
}

// A stored last error is worded when shown, from its code and facts: a
// rate limit's wait too.
func TestStatusWordsTheStoredLastError(t *testing.T) {
	ch := change(account.StateMattermostChanged, account.StatusChanged, account.StatusUntouched)
	ch.LastError = &account.LastError{Code: account.CodeZulipRateLimited, RetryAfter: 28700 * time.Millisecond, At: testNow}
	assertWords(t, Status(account.StatusReport{Change: ch, Found: true, Now: testNow}),
		[]string{"Last answer: Zulip is busy (rate limit reached). Try again in 29 seconds."}, nil)
}

// A record saved before the texts moved to the edge kept a rendered text
// with its code: it decodes, and its text is shown as it was saved (some
// facts, a rate limit's wait, lived only there); new records keep no text
// and are worded from their code and facts.
func TestOldRecordsStayReadable(t *testing.T) {
	const old = `{"id":"c1","user_id":"u1","old_email":"ann@example.org","new_email":"ann@new.example.org","state":"waiting_for_zulip",
		"mattermost":"untouched","zulip":"untouched","steps":[],"attempts":1,"next_attempt_at":"2026-11-23T10:00:30Z","give_up_at":"2026-11-24T10:00:00Z",
		"last_error":{"code":"zulip_unavailable","text":"Zulip could not be reached or did not answer in time. Try again in a few minutes; if it keeps happening, tell your administrator.","at":"2026-11-23T10:00:00Z"},
		"created_at":"2026-11-23T10:00:00Z","updated_at":"2026-11-23T10:00:00Z","version":2}`
	var ch account.Change
	if err := json.Unmarshal([]byte(old), &ch); err != nil {
		t.Fatal(err)
	}
	if ch.LastError == nil || ch.LastError.Code != account.CodeZulipUnavailable || ch.LastError.Text == "" {
		t.Fatalf("decoded %+v", ch.LastError)
	}
	assertWords(t, Status(account.StatusReport{Change: ch, Found: true, Now: testNow}),
		[]string{"Last answer: Zulip could not be reached or did not answer in time. Try again in a few minutes; if it keeps happening, tell your administrator.",
			"Next try in less than a minute", "(Reference: `c1`)"}, nil)

	gone := ch
	gone.LastError = &account.LastError{Code: "a_code_since_removed", Text: "What an earlier version said.", At: testNow}
	assertWords(t, Status(account.StatusReport{Change: gone, Found: true, Now: testNow}), []string{"Last answer: What an earlier version said."}, nil)

	failed := ch
	failed.State, failed.Code = account.StateFailed, account.CodeGaveUp
	failed.LastError = &account.LastError{Code: account.CodeGaveUp, Text: "An old wording.", At: testNow}
	assertWords(t, Notice(account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: failed}}),
		[]string{"was not made, and nothing was changed", "An old wording."}, nil)

	// New records keep no text.
	saved, err := json.Marshal(account.LastError{Code: account.CodeZulipUnavailable, At: testNow})
	if err != nil || strings.Contains(string(saved), `"text"`) {
		t.Errorf("a new last error: %s %v", saved, err)
	}
}

// The replies to /account cancel for the outcomes account's tests get.
func TestCancelTexts(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  account.CancelResult
		want string
	}{
		{"TestJobFollowsTheConfirmationLink: cannot be cancelled", account.CancelResult{Outcome: account.CancelOutcomePendingLink,
			Change: change(account.StatePendingVerification, account.StatusPending, account.StatusUntouched)}, "cannot be cancelled"},
		{"TestCancel: a change waiting for Zulip", account.CancelResult{Outcome: account.CancelOutcomeCancelled,
			Change: change(account.StateCancelled, account.StatusUntouched, account.StatusUntouched)}, "Cancelled your email change to `ann@new.example.org`"},
		{"TestCancel: nothing open", account.CancelResult{Outcome: account.CancelOutcomeNothingOpen}, "nothing to cancel"},
		{"TestRollbackWaitsForItsConfirmationLink: cancel explains there is nothing to cancel", account.CancelResult{Outcome: account.CancelOutcomeRollbackLink,
			Change: change(account.StateRollbackPendingVerification, account.StatusRollbackPending, account.StatusUntouched)}, "confirmation link mailed to `" + ann + "`"},
		{"TestEveryCommandPassesTheSessionGate: cancel", account.CancelResult{Outcome: account.CancelOutcomeRefused, Failure: fail(account.CodeOAuthRefused)}, "Nothing was changed"},
		{"already changed", account.CancelResult{Outcome: account.CancelOutcomeAlreadyChanged, Change: change(account.StateMattermostChanged, account.StatusChanged, account.StatusUntouched)},
			"Your Mattermost email already is `ann@new.example.org`"},
		{"busy", account.CancelResult{Outcome: account.CancelOutcomeBusy}, "being made right now"},
		{"failed", account.CancelResult{Outcome: account.CancelOutcomeFailed}, "Something went wrong inside Account Sync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertWords(t, Cancel(tc.res), []string{tc.want}, nil)
		})
	}
}
