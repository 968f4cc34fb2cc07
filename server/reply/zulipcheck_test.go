package reply

import (
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Every finding of the Zulip check has a text.
func TestEveryFindingHasAText(t *testing.T) {
	for _, f := range account.Findings() {
		if findingTexts[f] == nil || strings.TrimSpace(CheckLine(account.CheckLine{Finding: f})) == "" {
			t.Errorf("no text for %s", f)
		}
	}
	if len(findingTexts) != len(account.Findings()) {
		t.Errorf("%d texts for %d findings", len(findingTexts), len(account.Findings()))
	}
}

// The lines account's TestCheckZulip finds, as the admin reads them: the
// last line's words, and "Everything needed" only when every line passed.
func TestZulipCheckTexts(t *testing.T) {
	passed := []account.CheckLine{
		{OK: true, Finding: account.FindingSettingsComplete},
		{OK: true, Finding: account.FindingReached, Version: "10.2", Level: 332},
		{OK: true, Finding: account.FindingSignedIn, Detail: "bot@zulip.example.org"},
		{OK: true, Finding: account.FindingRoleOK, Role: zulip.RoleAdmin},
	}
	for _, tc := range []struct {
		name string
		last account.CheckLine
		ok   int // lines passed before the last
		want string
	}{
		{"healthy", account.CheckLine{OK: true, Finding: account.FindingMayChangeEmails}, 4, "may change users' emails"},
		{"sync off", account.CheckLine{Finding: account.FindingSyncOff}, 0, "Zulip sync is turned off"},
		{"settings incomplete", account.CheckLine{Finding: account.FindingSettingsBroken, Detail: "the bot API key is empty"}, 0, "the bot API key is empty"},
		{"down", account.CheckLine{Finding: account.FindingUnreachable}, 1, "could not be reached"},
		{"redirect", account.CheckLine{Finding: account.FindingRedirect, Detail: "http://zulip.example.org"}, 1, "redirect to `http://zulip.example.org`"},
		{"too old", account.CheckLine{Finding: account.FindingTooOld, Version: "10.2", Level: 312}, 1, "feature level 312) is too old"},
		{"wrong key", account.CheckLine{Finding: account.FindingBadCredentials}, 2, "did not accept the bot email and API key"},
		{"bot only a member", account.CheckLine{Finding: account.FindingRoleTooLow, Role: 400}, 3, "role is Member"},
		{"no permission", account.CheckLine{Finding: account.FindingNoEmailPermission, Detail: "bot@zulip.example.org"}, 4,
			"`./manage.py change_user_role bot@zulip.example.org can_change_user_emails -r <realm>`"},
		{"not an administrator after all", account.CheckLine{Finding: account.FindingNotUserAdmin}, 4, "may not administer users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := append(append([]account.CheckLine(nil), passed[:tc.ok]...), tc.last)
			text := ZulipCheck(account.ZulipCheck{Lines: lines})
			last := strings.Split(strings.TrimSpace(strings.Split(text, "\n\nEverything")[0]), "\n")
			if l := last[len(last)-1]; !strings.Contains(l, tc.want) {
				t.Errorf("last line lacks %q:\n%s", tc.want, text)
			}
			if strings.Contains(text, "Everything needed") != tc.last.OK {
				t.Errorf("report:\n%s", text)
			}
			if !strings.HasPrefix(text, "#### Zulip connection check\n") || strings.Count(text, ":white_check_mark:") != tc.ok+boolInt(tc.last.OK) {
				t.Errorf("checklist:\n%s", text)
			}
		})
	}
}

// A bad Allowed email domains setting is named first, and the check does
// not find everything working (account's TestCheckZulipReportsInvalidAllowedDomains).
func TestZulipCheckNamesInvalidAllowedDomains(t *testing.T) {
	text := ZulipCheck(account.ZulipCheck{Lines: []account.CheckLine{
		{Finding: account.FindingDomainsInvalid, Entries: []string{"; @@", "x"}},
		{OK: true, Finding: account.FindingSettingsComplete},
		{OK: true, Finding: account.FindingMayChangeEmails},
	}})
	for _, want := range []string{
		":x: The **Allowed email domains** setting is invalid: `; @@`, `x` are not domains", "every email change is refused",
		"System Console > Plugins > Account Sync", "may change users' emails",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Everything needed") {
		t.Errorf("report says all is well:\n%s", text)
	}
	one := CheckLine(account.CheckLine{Finding: account.FindingDomainsInvalid, Entries: []string{"; @@"}})
	if !strings.Contains(one, "`; @@` is not a domain, so every email change is refused.") {
		t.Errorf("one entry: %s", one)
	}
}

// Refused at the gate: the failure's text alone.
func TestZulipCheckRefused(t *testing.T) {
	text := ZulipCheck(account.ZulipCheck{Failure: &account.Failure{Code: account.CodeAdminOnly}})
	if !strings.Contains(text, "Only system administrators") || strings.Contains(text, "Zulip connection check") {
		t.Errorf("refusal: %s", text)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
