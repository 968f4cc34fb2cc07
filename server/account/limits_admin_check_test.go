package account

import (
	"context"
	"testing"
	"time"
)

// Issue 17: a user's own change under the limits asks the server no
// permission question; over a limit, a system admin is still exempt and a
// user is refused.
func TestTheAdminCheckWaitsForALimit(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone || h.mm.adminChecks != 0 {
		t.Errorf("under the limits: %s, %d permission checks", res.Change.State, h.mm.adminChecks)
	}

	for _, admin := range []bool{false, true} {
		h := newHarness([]User{annUser()}, ann)
		h.opts.MaxChangesPerDay = 1
		h.usage.usage["u1"] = UserUsage{Changes: []time.Time{h.clock.now().Add(-time.Hour)}}
		h.mm.admins["u1"] = admin
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		switch {
		case admin && res.Change.State != StateDone:
			t.Errorf("an admin over the limit: %s (%v)", res.Change.State, res.Failure)
		case !admin && (res.Failure == nil || res.Failure.Code != CodeLimitReached):
			t.Errorf("a user over the limit: %s (%v)", res.Change.State, res.Failure)
		}
		if h.mm.adminChecks != 1 {
			t.Errorf("admin %v: %d permission checks, want 1", admin, h.mm.adminChecks)
		}
		if admin && len(h.usage.usage["u1"].Changes) != 1 {
			t.Errorf("an exempt admin's change was counted: %v", h.usage.usage["u1"])
		}
	}
}
