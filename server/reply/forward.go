package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// forwardNotice tells a user where the forward of a change made in
// Mattermost elsewhere ended: Zulip follows, or cannot, and what differs.
func forwardNotice(r account.Result) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var text string
	switch ch.State {
	case account.StateDone:
		text = fmt.Sprintf("Your Mattermost email was changed to %s outside Account Sync (it was %s), so Account Sync changed your Zulip email to it too.", newA, oldA)
	case account.StateFailed:
		text = fmt.Sprintf("Your Mattermost email was changed to %s outside Account Sync, but Zulip could not take it: %s Your Zulip email stays %s, so the two now differ. "+
			"To make them agree, change your email in Zulip yourself, or set your Mattermost email back; if it should work, ask your administrator.",
			newA, strings.TrimSpace(lastErrorText(r)), oldA)
	case account.StateNeedsAttention:
		text = attentionText(r)
	default:
		return ""
	}
	return strings.TrimSpace(text) + reference(ch)
}
