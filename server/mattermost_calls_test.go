package main

import (
	"context"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// Every call of the adapter to Mattermost is counted once, by kind.
func TestAdapterCallsCounted(t *testing.T) {
	var c callCounter
	a := counted(&mattermostAdapter{
		users:    &fakeUsers{user: &model.User{Id: "u1", Email: "a@example.org"}},
		sessions: fakeSessions{"s1": {Id: "s1", UserId: "u1"}},
		config:   fakeConfig{},
	}, &c)
	_, _ = a.GetUser("u1")
	_, _ = a.FindUserByEmail("a@example.org")
	_, _ = a.ListUsers(0, 200)
	_, _ = a.UpdateEmail("u1", "b@example.org") // a read, then the update
	_ = a.IsSystemAdmin("u1")
	_, _ = a.GetSession("s1")
	_ = a.RequiresEmailVerification()
	_ = a.ValidEmail("b@example.org") // no call

	want := callTally{UserReads: 3, UserPages: 1, UserUpdates: 1, Permissions: 1, Sessions: 1, Config: 1}
	got := c.tally()
	if got != want {
		t.Errorf("counted %+v, want %+v", got, want)
	}
	if got.total() != 8 {
		t.Errorf("total %d, want 8", got.total())
	}
	if d := c.tally().since(callTally{UserReads: 1, UserPages: 1}); d.UserReads != 2 || d.UserPages != 0 || d.total() != 6 {
		t.Errorf("since: %+v", d)
	}
}

// The scan's last log line gives its time and the Mattermost calls it
// made: with nothing to forward (the bed's other pairs apart are only
// reported), one page of users and nothing else.
func TestReconcileJobLogsItsCost(t *testing.T) {
	b := newForwardBed(t, configuration{})
	j := &reconcileJob{p: b.p, ctx: context.Background()}
	j.run() // forwards bob's change
	b.api.Calls = nil
	j.run() // nothing to do

	var kv map[string]any
	for _, call := range b.api.Calls {
		if call.Method == "LogInfo" && call.Arguments.String(0) == "Account Sync: scan finished" {
			kv = map[string]any{}
			for i := 1; i+1 < len(call.Arguments); i += 2 {
				kv[call.Arguments.String(i)] = call.Arguments[i+1]
			}
		}
	}
	if kv == nil {
		t.Fatal("no Info line at the end of the scan")
	}
	if kv["forwarded"] != 0 || kv["mattermost_calls"] != int64(1) || kv["user_pages"] != int64(1) {
		t.Errorf("scan line %v, want nothing forwarded and one Mattermost call (one page of users)", kv)
	}
	if took, _ := kv["took"].(string); took == "" {
		t.Errorf("scan line %v has no duration", kv)
	}
}
