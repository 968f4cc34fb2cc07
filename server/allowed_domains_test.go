package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// A non-empty Allowed email domains setting that is not a clean list must
// never read as "any domain": what is not a domain, or a setting naming no
// domain at all, is reported as bad (the service then refuses every change).
func TestAllowedDomainsThatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		setting string
		domains []string
		bad     []string
	}{
		{"", nil, nil},
		{"   ", nil, nil},
		{"example.org, @Example.COM", []string{"example.org", "example.com"}, nil},
		{",,; @@", nil, []string{"; @@"}},
		{",,", nil, []string{",,"}},
		{" , ", nil, []string{","}},
		{"example.org; example.com", nil, []string{"example.org; example.com"}},
		{"example.org, exmple", []string{"example.org"}, []string{"exmple"}},
	} {
		c := configuration{AllowedDomains: tc.setting}
		c.normalize()
		domains, bad := c.allowedDomains()
		if !reflect.DeepEqual(domains, tc.domains) || !reflect.DeepEqual(bad, tc.bad) {
			t.Errorf("%q: domains %q, bad %q; want %q and %q", tc.setting, domains, bad, tc.domains, tc.bad)
		}
		problems := strings.Join(c.problems(), "; ")
		if (problems != "") != (tc.bad != nil) || tc.bad != nil && !strings.Contains(problems, "every email change is refused") {
			t.Errorf("%q: problems %q", tc.setting, problems)
		}
	}
}

// Through the plugin: a setting saved around the System Console's check
// (config.json, the database, an older version) refuses every change before
// the user or either system is touched (the strict mock fails on any other
// call), the admin's log names it, and /account zulip check reports it.
func TestInvalidAllowedDomainsRefuseChangesThroughThePlugin(t *testing.T) {
	p, logs := newTestPlugin(t, configuration{AllowedDomains: ",,; @@"})
	api := p.API.(*plugintest.API)
	api.On("GetSession", "s1").Return(&model.Session{Id: "s1", UserId: "u1"}, nil)
	api.On("HasPermissionTo", "u1", model.PermissionManageSystem).Return(true)
	var refusals []string
	api.On("LogError", "account sync: email change refused", "user_id", "u1", "code", "allowed_domains_invalid", "change_id", mock.Anything, "error", mock.Anything).
		Run(func(args mock.Arguments) { refusals = append(refusals, args.String(8)) }).Times(2)
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(*logs, "\n"); !strings.Contains(joined, "allowed email domains") || !strings.Contains(joined, "; @@") {
		t.Errorf("the admin was not told at load: %q", joined)
	}

	for _, addr := range []string{"ann@example.org", "ann@anything.example"} {
		res := p.service().ChangeEmail(context.Background(), account.Request{UserID: "u1", SessionID: "s1", NewEmail: addr})
		if res.Failure == nil || res.Failure.Code != account.CodeDomainsMisconfigured || res.Change.State != account.StateRefused {
			t.Fatalf("%s: %s %v", addr, res.Change.State, res.Failure)
		}
		if text := reply.Email(res); !strings.Contains(text, "**Allowed email domains** setting for Account Sync is invalid") || !strings.Contains(text, "ask your system administrator") {
			t.Errorf("%s: reply %s", addr, text)
		}
	}
	if len(refusals) != 2 || !strings.Contains(refusals[0], "; @@") {
		t.Errorf("refusals logged: %q", refusals)
	}

	check := p.commandZulipCheck(commandCall{userID: "u1", sessionID: "s1"})
	if !strings.Contains(check, ":x: The **Allowed email domains** setting is invalid: `; @@` is not a domain, so every email change is refused.") {
		t.Errorf("zulip check:\n%s", check)
	}
}
