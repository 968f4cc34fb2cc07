package reply

import (
	"fmt"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The buttons of an offer.
const (
	OfferUse  = "Use it in Mattermost too"
	OfferKeep = "Keep my Mattermost email"
)

// Offer is the direct message that offers a user the address their Zulip
// account was changed to outside Account Sync.
func Offer(o account.Offer) string {
	return fmt.Sprintf("Your Zulip email was changed to %s outside Account Sync; your Mattermost email is still %s. "+
		"Do you want to use %s in Mattermost too? **%s** changes your Mattermost email (with a confirmation link if this server asks for one); "+
		"**%s** leaves it, and this address is not offered again. If you did not change your Zulip email yourself, keep yours and tell your administrator.",
		code(o.Email), code(o.Agreed), code(o.Email), OfferUse, OfferKeep)
}

// OfferKept is the answer to Keep.
func OfferKept(o account.Offer) string {
	return fmt.Sprintf("You kept your Mattermost email %s; Zulip keeps %s. This address will not be offered again.", code(o.Agreed), code(o.Email))
}

// OfferAnswered replaces the buttons of an answered offer.
func OfferAnswered(o account.Offer, answer string) string {
	return Offer(o) + "\n\n" + answer
}
