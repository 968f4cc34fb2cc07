package account

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
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
		// Zulip's (Django's) rules, checked before anything changes.
		{"ann@example.o", "", CodeAddressInvalid},                           // one-letter top-level domain
		{"ann@example.o1", "", CodeAddressInvalid},                          // digits in the top-level domain
		{"ann@1.23", "", CodeAddressInvalid},                                // numeric top-level domain
		{"ann@-example.org", "", CodeAddressInvalid},                        // label starting with a hyphen
		{"ann@example-.org", "", CodeAddressInvalid},                        // label ending with a hyphen
		{"ann@sub.-x.org", "", CodeAddressInvalid},                          // inner label starting with a hyphen
		{"ann@exa_mple.org", "", CodeAddressInvalid},                        // underscore in the domain
		{"ann@" + strings.Repeat("a", 64) + ".org", "", CodeAddressInvalid}, // label over 63
		{"an..n@example.org", "", CodeAddressInvalid},                       // empty atom
		{".ann@example.org", "", CodeAddressInvalid},                        // leading dot
		{"ann.@example.org", "", CodeAddressInvalid},                        // trailing dot
		{"ann\u202e@example.org", "", CodeAddressInvalid},                   // right-to-left override
		{"ann\u200b@example.org", "", CodeAddressInvalid},                   // zero-width space
		{"ann@exam\u200dple.org", "", CodeAddressInvalid},                   // zero-width joiner in the domain
		{"ann@example.org\ufeff", "", CodeAddressInvalid},                   // byte-order mark
		{"änn@example.org", "", CodeAddressInvalid},                         // non-ASCII local part
		{"ann@xn--80ak6aa92e.com", "ann@xn--80ak6aa92e.com", ""},            // punycode label
		{"ann@example.xn--p1ai", "ann@example.xn--p1ai", ""},                // punycode top-level domain
		{"ann@münchen.de", "ann@münchen.de", ""},                            // internationalised domain
		{"o'brien+x=z@example.org", "o'brien+x=z@example.org", ""},
		// Zulip's API cannot look up an address holding "/" (404).
		{"o'brien+x/y=z@example.org", "", CodeAddressSlash},
		{"a/b@example.org", "", CodeAddressSlash},
		{"A/B@Example.org ", "", CodeAddressSlash},
		{"a/b@localhost", "", CodeAddressInvalid}, // invalid anyway
		{"ann@a-b.example-1.org", "ann@a-b.example-1.org", ""},
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

// FailureCodeOrEmpty is the Code of the *Failure in err's chain: "" for no
// error, CodeInternal for any other error.
func FailureCodeOrEmpty(err error) Code {
	var f *Failure
	switch {
	case err == nil:
		return ""
	case errors.As(err, &f):
		return f.Code
	}
	return CodeInternal
}

// Every declared code is in the code table (reply's tests check that each
// has a text, and that admin-side texts tell the user to ask the admin).
func TestCodeTableHasEveryCode(t *testing.T) {
	declared := declaredCodes(t)
	if len(declared) < 45 {
		t.Fatalf("found only %d codes in failure.go", len(declared))
	}
	for _, c := range declared {
		if _, ok := codeTable[c]; !ok {
			t.Errorf("%s is not in codeTable", c)
		}
	}
	if len(Codes()) != len(declared) {
		t.Errorf("Codes() has %d codes, failure.go declares %d", len(Codes()), len(declared))
	}
}

// The code table's properties, for the codes whose handling depends on them.
func TestCodeProperties(t *testing.T) {
	for _, c := range Codes() {
		wantRetry := c == CodeZulipUnavailable || c == CodeZulipRateLimited
		if got := retryable(&Failure{Code: c}); got != wantRetry {
			t.Errorf("retryable(%s) = %v", c, got)
		}
	}
	for _, c := range []Code{CodeZulipTooOld, CodeZulipUnauthorized, CodeZulipBotNotAdmin, CodeZulipNoPermission, CodeZulipRedirect, CodeZulipRejected} {
		if !codeTable[c].forgetsFacts || !c.ForAdmin() {
			t.Errorf("%s: %+v", c, codeTable[c])
		}
	}
	for _, c := range []Code{CodeTakenInZulip, CodeZulipUnavailable, CodeInternal} {
		if codeTable[c].forgetsFacts {
			t.Errorf("%s forgets the facts", c)
		}
	}
	if retryable(nil) || Code("no_such_code").ForAdmin() {
		t.Error("unknown codes have properties")
	}
}

// declaredCodes reads every Code constant declared in failure.go, so a new
// code cannot be forgotten here.
func declaredCodes(t *testing.T) []Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "failure.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []Code
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
			return true
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, Code(s))
			}
		}
		return true
	})
	return codes
}
