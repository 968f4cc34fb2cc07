package account

import (
	"context"
	"errors"
	"testing"
)

// review3UsageDown fails every read of a user's usage (a KV read error).
type review3UsageDown struct{ memStore }

func (review3UsageDown) Usage(string) (UserUsage, error) {
	return UserUsage{}, errors.New("kv: read timed out")
}

// Before Issue 17 a system admin was exempt from the limits before their
// usage was read; now the usage is read first, so an admin's own change
// is refused ("Something went wrong inside Account Sync") whenever the
// usage cannot be read: admins are no longer exempt on that path.
func TestReview3AdminExemptEvenWhenUsageCannotBeRead(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.mm.admins["u1"] = true
	d := h.deps(h.z)
	d.Store = review3UsageDown{memStore: d.Store.(memStore)}
	res := newTestService(d, withNow(h)).ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateDone {
		t.Errorf("a system admin's own change while the usage cannot be read: %s (%v)", res.Change.State, res.Failure)
	}
}
