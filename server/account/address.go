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
// spaces or control characters. valid applies the server's own rules on top.
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
	local, domain, _ := strings.Cut(addr, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	if valid != nil && !valid(addr) {
		return "", newFailure(CodeAddressInvalid, nil)
	}
	return addr, nil
}
