package account

import (
	"net/mail"
	"strings"
	"unicode"
)

// MaxAddressLength is Mattermost's limit for an email address.
const MaxAddressLength = 128

// NormalizeAddress trims and lower-cases raw and accepts only a bare address
// ("ann@example.org"): no display name, angle brackets, comments, quoting,
// spaces or control characters. On top come Zulip's own rules (zulipSyntax),
// no "/" (CodeAddressSlash: Zulip routes on the decoded path, so
// /users/a%2Fb@x.org is /users/a/b@x.org, which matches no route, and such
// an address can be neither checked nor found), and valid, the server's
// rules, so an address either system would refuse is caught before anything
// changes.
func NormalizeAddress(raw string, valid func(string) bool) (string, error) {
	addr := strings.ToLower(strings.TrimSpace(raw))
	if addr == "" {
		return "", newFailure(CodeAddressMissing, nil)
	}
	if len(addr) > MaxAddressLength {
		return "", newFailure(CodeAddressTooLong, nil)
	}
	if strings.IndexFunc(addr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 ||
		strings.ContainsAny(addr, "<>()\"\\,;[]`") || strings.Count(addr, "@") != 1 {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil {
		return "", newFailure(CodeAddressInvalid, err)
	}
	if parsed.Name != "" || parsed.Address != addr {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	if !zulipSyntax(addr) {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	if strings.Contains(addr, "/") {
		return "", newFailure(CodeAddressSlash, nil)
	}
	if valid != nil && !valid(addr) {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	return addr, nil
}

// zulipSyntax applies the rules of Django's email validation, which Zulip
// runs on a new address, a little more strictly: an ASCII dot-atom local
// part; domain labels of letters, digits and inner hyphens (letters may be
// non-ASCII, as in internationalised domains); a top-level domain of at
// least two letters (or a punycode "xn--" label); no Unicode format
// characters (right-to-left overrides, zero-width characters) anywhere.
func zulipSyntax(addr string) bool {
	if strings.IndexFunc(addr, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0 {
		return false
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || !dotAtom(local) {
		return false
	}
	return ValidDomain(domain)
}

// ValidDomain tells a domain Zulip accepts in an address: at least two
// labels of letters, digits and inner hyphens, and a top-level domain of at
// least two letters (or "xn--").
func ValidDomain(domain string) bool {
	if strings.IndexFunc(domain, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) >= 0 {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !domainLabel(l) {
			return false
		}
	}
	return topLevelDomain(labels[len(labels)-1])
}

// dotAtom is RFC 5322's dot-atom in ASCII: atoms of letters, digits and
// !#$%&'*+/=?^_`{|}~- separated by single dots.
func dotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for _, r := range atom {
			if !isAtext(r) {
				return false
			}
		}
	}
	return true
}

func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	default:
		return strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r)
	}
}

// domainLabel: 1 to 63 characters, letters, digits and hyphens, no hyphen
// first or last.
func domainLabel(l string) bool {
	if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
		return false
	}
	for _, r := range l {
		if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}

func topLevelDomain(l string) bool {
	if strings.HasPrefix(l, "xn--") && len(l) > len("xn--") {
		return true
	}
	if len([]rune(l)) < 2 {
		return false
	}
	for _, r := range l {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
