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
