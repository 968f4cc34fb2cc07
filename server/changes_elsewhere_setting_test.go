package main

import "testing"

// MattermostChangesElsewhere fails closed (it failed open before the third review): any value that is not
// exactly "report" (a typo in config.json, "Only report", "off", "none")
// forwards changes to Zulip, the setting's writing side. The plugin's
// other guard settings fail closed (an allowed-domains list that is not
// domains refuses every change).
func TestChangesElsewhereSettingFailsClosed(t *testing.T) {
	for _, v := range []string{"Only report", "reports", "off", "none", "report_only"} {
		c := configuration{MattermostChangesElsewhere: v}
		c.normalize()
		if !c.reportMattermostChanges() {
			t.Errorf("MattermostChangesElsewhere %q (not understood, problems %v): forwards to Zulip", v, c.problems())
		}
	}
}

// ZulipChangesElsewhere: "ask" (or nothing) offers, "apply" applies, and
// anything else only reports; only "apply" applies, however it is written.
func TestZulipChangesElsewhereModes(t *testing.T) {
	cases := []struct {
		value          string
		apply, report  bool
		problemsReport bool
	}{
		{"", false, false, false},
		{"ask", false, false, false},
		{"apply", true, false, false},
		{" Apply ", true, false, false},
		{"report", false, true, false},
		{"applies", false, true, true},
		{"apply all", false, true, true},
		{"Use in Mattermost", false, true, true},
	}
	for _, c := range cases {
		cfg := configuration{ZulipChangesElsewhere: c.value}
		cfg.normalize()
		if got := cfg.applyZulipChanges(); got != c.apply {
			t.Errorf("%q: applies %v, want %v", c.value, got, c.apply)
		}
		if got := cfg.reportZulipChanges(); got != c.report {
			t.Errorf("%q: only reports %v, want %v", c.value, got, c.report)
		}
		if got := len(cfg.problems()) > 0; got != c.problemsReport {
			t.Errorf("%q: problems %v, want a problem: %v", c.value, cfg.problems(), c.problemsReport)
		}
	}
}
