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

// The scan's interval: minutes from 1 to 1440, else 15; the hidden seconds
// setting wins. Anything but "report" forwards changes made elsewhere, and
// every value that falls back to a default is a problem for the admin.
func TestReconcileSettings(t *testing.T) {
	for _, tc := range []struct {
		minutes, seconds string
		want             time.Duration
		wantProblem      bool
	}{
		{"", "", 15 * time.Minute, false},
		{"1", "", time.Minute, false},
		{" 1440 ", "", 1440 * time.Minute, false},
		{"0", "", 15 * time.Minute, true},
		{"1441", "", 15 * time.Minute, true},
		{"-3", "", 15 * time.Minute, true},
		{"ten", "", 15 * time.Minute, true},
		{"30", "2", 2 * time.Second, false},
		{"30", "0", 30 * time.Minute, false},
	} {
		c := configuration{ReconcileIntervalMinutes: tc.minutes, ReconcileIntervalSeconds: tc.seconds}
		c.normalize()
		if got := c.reconcileInterval(); got != tc.want {
			t.Errorf("interval(%q, %q s) = %s, want %s", tc.minutes, tc.seconds, got, tc.want)
		}
		if got := strings.Contains(strings.Join(c.problems(), ";"), "scan interval must be a number of minutes from 1 to 1440 (using 15)"); got != tc.wantProblem {
			t.Errorf("interval %q: problems %v, want one: %v", tc.minutes, c.problems(), tc.wantProblem)
		}
	}
	for _, tc := range []struct {
		setting     string
		wantReport  bool
		wantProblem bool
	}{
		{"", false, false},
		{"forward", false, false},
		{"report", true, false},
		{" Report ", true, false},
		{"ignore", true, true}, // not understood: only reports (fails closed)
	} {
		c := configuration{MattermostChangesElsewhere: tc.setting}
		c.normalize()
		if got := c.reportMattermostChanges(); got != tc.wantReport {
			t.Errorf("MattermostChangesElsewhere %q: report = %v, want %v", tc.setting, got, tc.wantReport)
		}
		if got := len(c.problems()) == 1 && strings.Contains(c.problems()[0], `"forward" or "report" (using "report" until it is fixed)`); got != tc.wantProblem {
			t.Errorf("MattermostChangesElsewhere %q: problems %v", tc.setting, c.problems())
		}
	}
}
