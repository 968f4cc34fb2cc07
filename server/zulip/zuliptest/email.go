package zuliptest

import (
	"net"
	"regexp"
	"strings"
	"unicode"
)

// Django's EmailValidator, the check behind "Invalid new email address.".
var (
	emailUserDotAtom = regexp.MustCompile("^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*$")
	emailUserQuoted  = regexp.MustCompile(`^"([\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*"$`)
	emailDomain      = regexp.MustCompile(`^((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+)(?:[A-Za-z0-9-]{2,63})$`)
	emailLiteral     = regexp.MustCompile(`^\[([A-Fa-f0-9:.]+)\]$`)
)

// ValidEmail reports whether Django's validate_email accepts addr.
func ValidEmail(addr string) bool {
	if addr == "" || len(addr) > 320 {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	user, domain := addr[:at], addr[at+1:]
	if !emailUserDotAtom.MatchString(user) && !emailUserQuoted.MatchString(user) {
		return false
	}
	if domain == "localhost" {
		return true
	}
	return validDomain(domain) || validDomain(asciiOnlyShape(domain))
}

func validDomain(d string) bool {
	if emailDomain.MatchString(d) && !strings.HasSuffix(d, "-") {
		return true
	}
	if m := emailLiteral.FindStringSubmatch(d); m != nil {
		return net.ParseIP(m[1]) != nil
	}
	return false
}

// asciiOnlyShape stands in for Django's IDNA retry: a label of letters,
// digits and hyphens keeps its shape when punycoded ("xn--" + ASCII), so each
// non-ASCII label becomes "xn--" + a placeholder of a plausible length, and
// anything that IDNA would refuse leaves the domain unchanged (and invalid).
func asciiOnlyShape(d string) string {
	labels := strings.Split(d, ".")
	changed := false
	for i, l := range labels {
		ascii := true
		for _, c := range l {
			if c > unicode.MaxASCII {
				ascii = false
			} else if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return d
			}
		}
		if ascii {
			continue
		}
		for _, c := range l {
			if c > unicode.MaxASCII && !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.Is(unicode.Mn, c) {
				return d
			}
		}
		n := len([]rune(l)) + 1
		if n > 59 {
			return d
		}
		labels[i] = "xn--" + strings.Repeat("a", n)
		changed = true
	}
	if !changed {
		return d
	}
	return strings.Join(labels, ".")
}
