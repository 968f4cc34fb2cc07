package main

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"
)

// Mattermost calls OnConfigurationChange for any change of its settings
// (the System Console, anywhere). The Zulip client, what is known of
// Zulip (its budget, its version, the bot's permission) and the event
// queue go on while the Zulip connection settings stay as they were; any
// change of those makes a new client, and the follower registers with it.
func TestSettingsSaveKeepsTheZulipConnection(t *testing.T) {
	cfg := configuration{ZulipSyncEnabled: true, ZulipURL: "https://chat.example.org", ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "s3cr3t-key", MaxChangesPerUserPerDay: "5"}
	api := &plugintest.API{}
	api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		*args.Get(0).(*configuration) = cfg
	}).Return(nil)
	p := &Plugin{}
	p.SetAPI(api)
	p.client = pluginapi.NewClient(api, nil)
	f := &eventFollower{p: p}
	p.events = f
	interrupted := 0
	f.stopPoll = func() { interrupted++ }

	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	if first, _ := p.getZulip(); first == nil {
		t.Fatal("no client")
	}
	interrupted = 0
	f.stopPoll = func() { interrupted++ }

	for _, tc := range []struct {
		name   string
		change func(*configuration)
		keep   bool
	}{
		{"the same settings saved again", func(*configuration) {}, true},
		{"another setting of the plugin", func(c *configuration) { c.MaxChangesPerUserPerDay = "9" }, true},
		{"the bot's key", func(c *configuration) { c.ZulipAPIKey = "another-key" }, false},
		{"the timeout", func(c *configuration) { c.ZulipTimeoutSeconds = "20" }, false},
		{"the site", func(c *configuration) { c.ZulipURL = "https://zulip.example.org" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, beforeFacts := p.getZulip()
			interrupted = 0
			f.stopPoll = func() { interrupted++ }
			tc.change(&cfg)
			if err := p.OnConfigurationChange(); err != nil {
				t.Fatal(err)
			}
			after, afterFacts := p.getZulip()
			if kept := after == before && afterFacts == beforeFacts; kept != tc.keep {
				t.Errorf("client and facts kept: %v, want %v", kept, tc.keep)
			}
			if (interrupted == 0) != tc.keep {
				t.Errorf("the event follower interrupted %d times (keep %v)", interrupted, tc.keep)
			}
			if p.getConfiguration().MaxChangesPerUserPerDay != cfg.MaxChangesPerUserPerDay {
				t.Error("the new settings were not taken")
			}
		})
	}
}
