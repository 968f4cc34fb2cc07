package reply

import (
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The people and times of account's tests, whose results these tests word.
const (
	ann    = "ann@example.org"
	annNew = "ann@new.example.org"
	third  = "ann@third.example.org"
)

// testNow is the clock of account's tests.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// change is Ann's change c1 from ann to annNew in state, last updated at
// testNow.
func change(state account.State, mm, z account.SystemStatus) account.Change {
	return account.Change{ID: "c1", UserID: "u1", OldEmail: ann, NewEmail: annNew, State: state, Mattermost: mm, Zulip: z,
		CreatedAt: testNow, UpdatedAt: testNow}
}

func fail(c account.Code) *account.Failure { return &account.Failure{Code: c} }

// stopped is a result that stopped for code, with the code kept as the
// record's final code and last error too, as the flow keeps it.
func stopped(state account.State, mm, z account.SystemStatus, code account.Code, detail string) account.Result {
	ch := change(state, mm, z)
	ch.LastError = &account.LastError{Code: code, Detail: detail, At: testNow}
	if !state.Open() {
		ch.Code = code
	}
	return account.Result{Change: ch, Failure: &account.Failure{Code: code, Detail: detail}}
}

func ptr(t time.Time) *time.Time { return &t }

// assertWords checks text holds every want and none of absent.
func assertWords(t *testing.T, text string, want, absent []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("lacks %q:\n%s", w, text)
		}
	}
	for _, a := range absent {
		if strings.Contains(text, a) {
			t.Errorf("says %q:\n%s", a, text)
		}
	}
}
