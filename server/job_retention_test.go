package main

import (
	"context"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

func TestPruneRecordsUsesTheRetentionSetting(t *testing.T) {
	p, _ := newTestPlugin(t, configuration{RecordRetentionDays: "10"})
	api := p.API.(interface {
		On(string, ...any) *mock.Call
	})
	var logged []any
	api.On("LogInfo", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Run(func(a mock.Arguments) { logged = a }).Return()
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := now
	p.store = store.NewWithClock(&pluginapi.MemoryStore{}, func() time.Time { return clock })
	for id, age := range map[string]time.Duration{"old": 11 * 24 * time.Hour, "young": 9 * 24 * time.Hour} {
		clock = now.Add(-age) // saved then
		if err := p.store.SaveChange(context.Background(), &account.Change{ID: id, UserID: "u-" + id, State: account.StateDone, CreatedAt: clock}); err != nil {
			t.Fatal(err)
		}
	}
	clock = now

	p.pruneRecords()

	if _, ok, _ := p.store.GetChange("old"); ok {
		t.Error("a record older than the retention was kept")
	}
	if _, ok, _ := p.store.GetChange("young"); !ok {
		t.Error("a record inside the retention was deleted")
	}
	if len(logged) == 0 {
		t.Error("the clean-up was not logged")
	}
}

// With the shortest retention, a change still open (Mattermost changed,
// Zulip not yet) is kept however old, while the job reschedules it; it goes
// once it has ended and the retention has passed.
func TestPruneRecordsKeepsOpenChanges(t *testing.T) {
	p, _ := newTestPlugin(t, configuration{RecordRetentionDays: "1"})
	api := p.API.(interface {
		On(string, ...any) *mock.Call
	})
	api.On("LogInfo", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return()
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := now.Add(-5 * 24 * time.Hour)
	p.store = store.NewWithClock(&pluginapi.MemoryStore{}, func() time.Time { return clock })
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateMattermostChanged, CreatedAt: clock, UpdatedAt: clock}
	if err := p.store.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(-3 * 24 * time.Hour)
	c.Attempts++ // rescheduled by the job
	if err := p.store.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	clock = now
	p.pruneRecords()
	if got, ok, _ := p.store.GetChange("c1"); !ok || got.State != account.StateMattermostChanged || got.Attempts != 1 {
		t.Fatalf("the open change was not kept as it was: %+v %v", got, ok)
	}

	c.State = account.StateRolledBack
	if err := p.store.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(25 * time.Hour)
	p.pruneRecords()
	if _, ok, _ := p.store.GetChange("c1"); ok {
		t.Error("the change was kept a day after it ended")
	}
}
