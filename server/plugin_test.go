package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"
)

// newTestPlugin returns a plugin whose Mattermost API is a plugintest mock
// serving cfg as the plugin settings, and the log lines it wrote.
func newTestPlugin(t *testing.T, cfg configuration) (*Plugin, *[]string) {
	t.Helper()
	api := &plugintest.API{}
	t.Cleanup(func() { api.AssertExpectations(t) })
	api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		*args.Get(0).(*configuration) = cfg
	}).Return(nil)
	var logs []string
	record := func(args mock.Arguments) { logs = append(logs, fmt.Sprint(args...)) }
	api.On("LogError", mock.Anything).Maybe().Run(record)
	api.On("LogError", mock.Anything, mock.Anything, mock.Anything).Maybe().Run(record)
	p := &Plugin{}
	p.SetAPI(api)
	p.client = pluginapi.NewClient(api, nil)
	return p, &logs
}

func TestOnConfigurationChange(t *testing.T) {
	good := configuration{ZulipSyncEnabled: true, ZulipURL: " https://chat.example.org/ ", ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "s3cr3t-key"}
	tests := []struct {
		name       string
		cfg        configuration
		wantClient bool
		wantLog    string
	}{
		{"working settings build a client", good, true, ""},
		{"sync off needs no client", configuration{}, false, ""},
		{"missing URL is logged for the admin", func() configuration { c := good; c.ZulipURL = ""; return c }(), false, "site URL is empty"},
		{"bad URL is logged for the admin", func() configuration { c := good; c.ZulipURL = "chat.example.org"; return c }(), false, "must start with https://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, logs := newTestPlugin(t, tc.cfg)
			if err := p.OnConfigurationChange(); err != nil {
				t.Fatal(err)
			}
			if zc, facts := p.getZulip(); (zc != nil) != tc.wantClient || facts == nil {
				t.Errorf("client built = %v, want %v; facts %v", zc != nil, tc.wantClient, facts)
			}
			if p.getConfiguration().ZulipURL != strings.TrimSpace(tc.cfg.ZulipURL) {
				t.Errorf("settings not normalised: %q", p.getConfiguration().ZulipURL)
			}
			joined := strings.Join(*logs, "\n")
			if tc.wantLog == "" && joined != "" {
				t.Errorf("unexpected log: %s", joined)
			}
			if tc.wantLog != "" && !strings.Contains(joined, tc.wantLog) {
				t.Errorf("log %q lacks %q", joined, tc.wantLog)
			}
			if strings.Contains(joined, "s3cr3t-key") {
				t.Errorf("the API key was logged: %s", joined)
			}
		})
	}
}
