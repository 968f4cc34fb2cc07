package main

import (
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

func TestSettingsAreCheckedWhenSaved(t *testing.T) {
	good := map[string]any{"zulipsyncenabled": true, "zulipurl": "https://chat.example.org", "zulipbotemail": "bot@chat.example.org", "zulipapikey": "s3cr3t-key-123"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name     string
		settings map[string]any
		want     string // "" = accepted
	}{
		{"working settings", good, ""},
		{"sync off needs nothing", map[string]any{"zulipsyncenabled": false}, ""},
		{"plain http", with("zulipurl", "http://chat.example.org"), "https"},
		{"plain http allowed on purpose", with("zulipallowplainhttp", true), ""},
		{"missing key", with("zulipapikey", ""), "the bot API key is empty"},
		{"malformed domains", with("alloweddomains", "example.org, not a domain, x"), "not a domain, x"},
		{"good domains", with("alloweddomains", "example.org, @Example.COM"), ""},
		{"retry hours out of range", with("retryforhours", "0"), "retry time"},
		{"scan interval out of range", with("reconcileintervalminutes", "1441"), "scan interval"},
		{"scan interval not a number", with("reconcileintervalminutes", "often"), "scan interval"},
		{"scan interval in range", with("reconcileintervalminutes", "60"), ""},
		{"changes elsewhere reported", with("mattermostchangeselsewhere", "report"), ""},
		{"changes elsewhere unknown", with("mattermostchangeselsewhere", "ignore"), "changes made in Mattermost elsewhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &model.Config{}
			cfg.PluginSettings.Plugins = map[string]map[string]any{pluginID: tc.settings}
			api := &plugintest.API{}
			api.On("GetConfig").Return(&model.Config{})
			p := &Plugin{}
			p.SetAPI(api)
			out, err := p.ConfigurationWillBeSaved(cfg)
			if out != nil {
				t.Errorf("the configuration was replaced")
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err %v, want one naming %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the message holds the key: %v", err)
			}
		})
	}
	if out, err := (&Plugin{}).ConfigurationWillBeSaved(&model.Config{}); out != nil || err != nil { // p.API nil: no current config
		t.Errorf("a config without the plugin's settings: %v %v", out, err)
	}

	// Saving something else keeps settings that were already there.
	bad := &model.Config{}
	bad.PluginSettings.Plugins = map[string]map[string]any{pluginID: with("zulipapikey", "")}
	api := &plugintest.API{}
	api.On("GetConfig").Return(bad)
	p := &Plugin{}
	p.SetAPI(api)
	if _, err := p.ConfigurationWillBeSaved(bad); err != nil {
		t.Errorf("an unrelated save was refused: %v", err)
	}
	changed := &model.Config{}
	changed.PluginSettings.Plugins = map[string]map[string]any{pluginID: with("zulipurl", "http://chat.example.org")}
	if _, err := p.ConfigurationWillBeSaved(changed); err == nil {
		t.Error("a changed, broken setting was accepted")
	}
}

func TestAllowedDomainsSetting(t *testing.T) {
	d, bad := (&configuration{AllowedDomains: " Example.org, @example.COM ,, x"}).allowedDomains()
	if strings.Join(d, ",") != "example.org,example.com" || strings.Join(bad, ",") != "x" {
		t.Errorf("domains %v, bad %v", d, bad)
	}
}

func TestAuditorUsesTheAuditAPIWhereTheServerHasIt(t *testing.T) {
	ev := account.AuditEvent{ChangeID: "c1", ActorID: "boss", UserID: "u1", OldEmail: "a@x.org", NewEmail: "b@x.org", Outcome: "done", Success: true}
	for _, tc := range []struct {
		version string
		want    bool
	}{{"9.9.0", false}, {"10.9.3", false}, {"10.10.0", true}, {"11.0.1", true}, {"garbage", false}} {
		api := &plugintest.API{}
		api.On("LogInfo", "account sync audit: email change", "change_id", "c1", "actor_id", "boss", "user_id", "u1", "old_email", "a@x.org", "new_email", "b@x.org", "outcome", "done", "code", "").Return()
		var recs []*model.AuditRecord
		client := pluginapi.NewClient(api, nil)
		a := newAuditor(&client.Log, tc.version, func(r *model.AuditRecord) { recs = append(recs, r) })
		a.Audit(ev)
		api.AssertExpectations(t)
		if (len(recs) == 1) != tc.want {
			t.Fatalf("%s: %d audit records, want %v", tc.version, len(recs), tc.want)
		}
		if tc.want {
			r := recs[0]
			if r.EventName != "accountSyncEmailChange" || r.Status != model.AuditStatusSuccess || r.Actor.UserId != "boss" ||
				r.EventData.Parameters["user_id"] != "u1" || r.EventData.PriorState["email"] != "a@x.org" || r.EventData.ResultState["change_id"] != "c1" {
				t.Errorf("record %+v", r)
			}
		}
	}
}
