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
	p.store = store.New(&pluginapi.MemoryStore{})
	now := time.Now()
	for id, age := range map[string]time.Duration{"old": 11 * 24 * time.Hour, "young": 9 * 24 * time.Hour} {
		if err := p.store.SaveChange(context.Background(), &account.Change{ID: id, UserID: "u-" + id, State: account.StateDone, CreatedAt: now.Add(-age), UpdatedAt: now.Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}

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
