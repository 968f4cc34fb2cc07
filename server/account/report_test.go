package account

import (
	"strings"
	"testing"
)

func TestReferenceOnlyWhereAnAdminNeedsIt(t *testing.T) {
	tests := []struct {
		name string
		res  Result
		want bool
	}{
		{"done", Result{Change: Change{ID: "c1", State: StateDone}}, false},
		{"user-side refusal", Result{Change: Change{ID: "c1", State: StateRefused}, Failure: newFailure(CodeTakenInZulip, nil)}, false},
		{"admin-side refusal", Result{Change: Change{ID: "c1", State: StateRefused}, Failure: newFailure(CodeZulipNoPermission, nil)}, true},
		{"refused before a record", Result{Change: Change{State: StateRefused}, Failure: newFailure(CodeZulipNotConfigured, nil)}, false},
		{"rolled back", Result{Change: Change{ID: "c1", State: StateRolledBack}, Failure: newFailure(CodeZulipUnavailable, nil)}, true},
		{"pending", Result{Change: Change{ID: "c1", State: StatePendingVerification}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Contains(tc.res.Report(), "(Reference: `c1`)"); got != tc.want {
				t.Errorf("reference shown = %v, want %v: %s", got, tc.want, tc.res.Report())
			}
		})
	}
}

// An admin's report says Zulip changed only when it did.
func TestAdminReportNamesWhatChanged(t *testing.T) {
	both := Result{Change: Change{ID: "c1", OldEmail: ann, NewEmail: annNew, State: StateDone, Mattermost: StatusChanged, Zulip: StatusChanged}}
	if got := both.AdminReport("ann"); !strings.Contains(got, "is now `"+annNew+"` in Mattermost and in Zulip") {
		t.Errorf("report %s", got)
	}
	mmOnly := both
	mmOnly.Change.Zulip = StatusDisabled
	got := mmOnly.AdminReport("ann")
	if strings.Contains(got, "and in Zulip") || !strings.Contains(got, "Zulip was not changed") {
		t.Errorf("report %s", got)
	}
}
