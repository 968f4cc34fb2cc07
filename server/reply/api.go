package reply

// Messages of the HTTP API's error answers that are not a failure code's
// text.
const (
	APINotFound         = "No such endpoint."
	APIMethodNotAllowed = "This endpoint does not take that method."
	APINotLoggedIn      = "Log in to Mattermost first."
	APIInternal         = "Something went wrong; the details are in the server log."
	APIBodyUnreadable   = "The request body could not be read."
	APIBodyTooLarge     = "The request body is too large; send {\"email\": \"new@example.org\"}."
	APIBodyInvalid      = "Send a JSON body like {\"email\": \"new@example.org\"}."
	APIBadPage          = "page must be 0 or more and per_page from 1 to 200."
	APIChangesUnread    = "Could not read the changes; the details are in the server log."
	APIChangesUnlisted  = "Could not list the changes; the details are in the server log."
	APINoChanges        = "No email change with Account Sync yet."
	APILinkUnread       = "Could not read your link; the details are in the server log."
	APINotLinked        = "Your Mattermost account is not linked to a Zulip account. Use /account link <your-zulip-address>."
)
