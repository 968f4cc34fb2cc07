package account

import (
	"context"
	"strings"
	"testing"
)

// Issue 17: where the auditor writes each event as a log line, a change
// that ends well is logged by it alone (one call to the server, not two),
// its event carrying where both systems stand; one that fails or waits is
// still logged by the flow too, at its level.
func TestAuditLineIsTheChangesLogLine(t *testing.T) {
	for _, logged := range []bool{true, false} {
		h := newHarness([]User{annUser()}, ann)
		h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
		aud := &memAuditor{}
		h.auditor = aud
		h.opts.AuditIsLogged = logged
		res := h.service().ChangeEmail(context.Background(), req(annNew))
		if res.Change.State != StateDone {
			t.Fatalf("logged %v: %s %+v", logged, res.Change.State, res.Failure)
		}
		if got := strings.Contains(h.log.String(), "info account sync: email change change_id"); got == logged {
			t.Errorf("audit logged %v: the flow's own line written %v:\n%s", logged, got, h.log)
		}
		want := AuditEvent{ChangeID: res.Change.ID, ActorID: "u1", UserID: "u1", OldEmail: ann, NewEmail: annNew, Outcome: string(StateDone), Success: true,
			Mattermost: StatusChanged, Zulip: StatusChanged}
		if len(aud.events) != 1 || aud.events[0].NextAttemptAt != nil || !sameEvent(aud.events[0], want) {
			t.Errorf("events %+v, want %+v", aud.events, want)
		}
	}

	// Zulip down: the change waits, logged by the flow as a warning too,
	// its event naming the next try.
	h := newHarness([]User{annUser()}, ann)
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	h.z.errs = map[string]error{"getid": errDown}
	aud := &memAuditor{}
	h.auditor = aud
	h.opts.AuditIsLogged = true
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Change.State != StateWaitingForZulip || !strings.Contains(h.log.String(), "warn account sync: email change waits for Zulip") {
		t.Fatalf("%s; log:\n%s", res.Change.State, h.log)
	}
	if len(aud.events) != 1 || aud.events[0].NextAttemptAt == nil || !aud.events[0].NextAttemptAt.Equal(*res.Change.NextAttemptAt) ||
		aud.events[0].Attempts != res.Change.Attempts || aud.events[0].Mattermost != StatusUntouched {
		t.Errorf("events %+v", aud.events)
	}
}

func sameEvent(a, b AuditEvent) bool {
	a.NextAttemptAt, b.NextAttemptAt = nil, nil
	return a == b
}
