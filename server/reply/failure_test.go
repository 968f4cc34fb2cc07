package reply

import (
	"slices"
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Every code has a text; admin-side texts tell the user to ask the admin.
// A code added to account without a text here fails this test.
func TestEveryCodeHasAText(t *testing.T) {
	if len(account.Codes()) < 45 {
		t.Fatalf("account.Codes() lists only %d codes", len(account.Codes()))
	}
	for _, c := range account.Codes() {
		if failureTexts[c] == "" {
			t.Errorf("no text for %s", c)
		}
		if c.ForAdmin() && !strings.Contains(failureTexts[c], askAdmin) {
			t.Errorf("admin-side %s does not tell the user to ask the admin", c)
		}
	}
	for c := range failureTexts {
		if !slices.Contains(account.Codes(), c) {
			t.Errorf("a text for %s, which account does not know", c)
		}
	}
}

func TestCodeSpanNeutralisesInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann@example.org", "`ann@example.org`"},
		{"a`b", "`a'b`"},
		{"line\nbreak", "`line break`"},
		{"", "(empty)"},
		{strings.Repeat("x", 100), "`" + strings.Repeat("x", 80) + "…`"},
	}
	for _, tc := range tests {
		if got := code(tc.in); got != tc.want {
			t.Errorf("code(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
