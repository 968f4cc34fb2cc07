package account

import (
	"regexp"
	"strings"
)

// idAddressRE is the form of Zulip's id-based addresses, user{ID}@{host}:
// Zulip resolves them to the account with that id, whoever asks.
var idAddressRE = regexp.MustCompile(`(?i)^user[0-9]+@`)

// isIDAddress tells an address of Zulip's id-based form, on any host.
func isIDAddress(addr string) bool { return idAddressRE.MatchString(addr) }

// isZulipDummyAddress tells an address Zulip keeps for an account's id on
// its own host, user{ID}@{host}: never a real address.
func isZulipDummyAddress(addr, zulipHost string) bool {
	if zulipHost == "" || !isIDAddress(addr) {
		return false
	}
	return strings.EqualFold(addr[strings.LastIndexByte(addr, '@')+1:], zulipHost)
}
