package account

import (
	"strings"
	"testing"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in   string
		want string
		code Code
	}{
		{"ann@example.org", "ann@example.org", ""},
		{"  Ann@Example.ORG\t", "ann@example.org", ""},
		{"ann+tag@sub.example.org", "ann+tag@sub.example.org", ""},
		{"", "", CodeAddressMissing},
		{"   ", "", CodeAddressMissing},
		{"Ann <ann@example.org>", "", CodeAddressInvalid},
		{"<ann@example.org>", "", CodeAddressInvalid},
		{"ann@example.org (Ann)", "", CodeAddressInvalid},
		{`"ann smith"@example.org`, "", CodeAddressInvalid},
		{"ann@@example.org", "", CodeAddressInvalid},
		{"ann@localhost", "", CodeAddressInvalid},
		{"ann@example.org.", "", CodeAddressInvalid},
		{"annexample.org", "", CodeAddressInvalid},
		{"@example.org", "", CodeAddressInvalid},
		{"ann@exa mple.org", "", CodeAddressInvalid},
		{"a,b@example.org", "", CodeAddressInvalid},
		{"[x](http://evil)@example.org", "", CodeAddressInvalid},
		{strings.Repeat("a", 120) + "@example.org", "", CodeAddressTooLong},
		{"blocked@example.org", "", CodeAddressInvalid}, // refused by the server's validator
	}
	valid := func(s string) bool { return !strings.HasPrefix(s, "blocked") }
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeAddress(tc.in, valid)
			if FailureCodeOrEmpty(err) != tc.code {
				t.Fatalf("error = %v, want code %q", err, tc.code)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FailureCodeOrEmpty(err error) Code {
	if err == nil {
		return ""
	}
	return FailureCode(err)
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

func TestEveryCodeHasAText(t *testing.T) {
	codes := []Code{CodeAddressMissing, CodeAddressTooLong, CodeAddressInvalid, CodeSameAddress, CodeManagedBySSO,
		CodeBotAccount, CodeBusy, CodeTakenInMattermost, CodeDomainNotAllowed, CodeTakenInZulip, CodeZulipRefusedAddress,
		CodeZulipUserNotFound, CodeZulipNotConfigured, CodeZulipTooOld, CodeZulipUnauthorized, CodeZulipBotNotAdmin,
		CodeZulipNoPermission, CodeZulipRejected, CodeZulipUnavailable, CodeZulipRateLimited, CodeMattermostFailed,
		CodeMattermostUnchanged, CodeInternal}
	for _, c := range codes {
		if failureTexts[c] == "" {
			t.Errorf("no text for %s", c)
		}
		if c.ForAdmin() && !strings.Contains(failureTexts[c], askAdmin) {
			t.Errorf("admin-side %s does not tell the user to ask the admin", c)
		}
	}
}
