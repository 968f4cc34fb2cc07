package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfigurationValidate(t *testing.T) {
	good := configuration{ZulipSyncEnabled: true, ZulipURL: "https://chat.example.org", ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "k3y-secret"}
	tests := []struct {
		name   string
		mutate func(*configuration)
		want   string // substring of the error; "" for none
	}{
		{"complete", func(*configuration) {}, ""},
		{"sync off needs nothing", func(c *configuration) { *c = configuration{} }, ""},
		{"missing URL", func(c *configuration) { c.ZulipURL = "" }, "site URL is empty"},
		{"URL without scheme", func(c *configuration) { c.ZulipURL = "chat.example.org" }, "must start with https://"},
		{"missing bot email", func(c *configuration) { c.ZulipBotEmail = "" }, "bot email"},
		{"missing key", func(c *configuration) { c.ZulipAPIKey = "" }, "API key is empty"},
		{"plain http to a remote host", func(c *configuration) { c.ZulipURL = "http://chat.example.org" }, "must start with https://"},
		{"plain http allowed by the setting", func(c *configuration) { c.ZulipURL = "http://chat.example.org"; c.ZulipAllowPlainHTTP = true }, ""},
		{"plain http to loopback", func(c *configuration) { c.ZulipURL = "http://127.0.0.1:9000" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good.Clone()
			tc.mutate(c)
			c.normalize()
			err := c.validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "k3y-secret") {
				t.Errorf("the API key leaked into %v", err)
			}
		})
	}
}

func TestConfigurationTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 10 * time.Second, "5": 5 * time.Second, "30": 30 * time.Second, "x": 10 * time.Second, "-1": 10 * time.Second, "600": 10 * time.Second} {
		c := configuration{ZulipTimeoutSeconds: in}
		if got := c.timeout(); got != want {
			t.Errorf("timeout(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	c := &configuration{ZulipURL: "https://a.example.org"}
	d := c.Clone()
	d.ZulipURL = "https://b.example.org"
	if c.ZulipURL != "https://a.example.org" {
		t.Error("Clone shares state")
	}
}

func TestConfigurationLimitsAndRetention(t *testing.T) {
	tests := []struct {
		max, days    string
		wantMax      int
		wantDays     int
		wantProblems int
	}{
		{"", "", 5, 90, 0},
		{"0", "30", 0, 30, 0},
		{"12", "365", 12, 365, 0},
		{"-1", "0", 5, 90, 2},
		{"five", "ninety", 5, 90, 2},
		{"3", "99999", 3, 90, 1},
	}
	for _, tc := range tests {
		c := configuration{MaxChangesPerUserPerDay: " " + tc.max + " ", RecordRetentionDays: tc.days}
		c.normalize()
		if got := c.maxChangesPerDay(); got != tc.wantMax {
			t.Errorf("maxChangesPerDay(%q) = %d, want %d", tc.max, got, tc.wantMax)
		}
		if got := c.retention(); got != time.Duration(tc.wantDays)*24*time.Hour {
			t.Errorf("retention(%q) = %s, want %d days", tc.days, got, tc.wantDays)
		}
		if got := len(c.problems()); got != tc.wantProblems {
			t.Errorf("problems(%q, %q) = %v", tc.max, tc.days, c.problems())
		}
	}
}
