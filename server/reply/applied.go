package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// appliedNotice tells a user that their Zulip address, changed outside
// Account Sync, was applied to their Mattermost email without asking (the
// administrator's choice): where that stands, or why it was not made and
// what differs.
func appliedNotice(r account.Result) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	intro := fmt.Sprintf("Your Zulip email was changed to %s outside Account Sync (in Zulip's settings, by a Zulip administrator, or by your organisation's directory). ", newA)
	var text string
	switch ch.State {
	case account.StateDone:
		text = fmt.Sprintf("Your organisation has Account Sync use such changes in Mattermost too, so your Mattermost email is now %s as well (it was %s). "+
			"If you did not expect this, contact your administrator.", newA, oldA)
	case account.StatePendingVerification:
		text = fmt.Sprintf("Your organisation has Account Sync use such changes in Mattermost too: Mattermost sent a confirmation link to %s. "+
			"Your Mattermost email stays %s until you open it (it is valid for 24 hours). If you did not expect this, contact your administrator.", newA, oldA)
	case account.StateWaitingForZulip:
		text = fmt.Sprintf("Account Sync is to use it in Mattermost too, but Zulip cannot be reached right now to check it, so your Mattermost email stays %s for now. "+
			"Account Sync tries again %s and tells you how it ends.", oldA, nextText(r))
	case account.StateRefused, account.StateFailed, account.StateRolledBack:
		if stopCode(r) == account.CodeChangedMeanwhile {
			text = fmt.Sprintf("Account Sync did not use it in Mattermost: your Mattermost email was changed in another way meanwhile (it is now %s), and Zulip was not changed.", code(detail(r)))
			break
		}
		text = fmt.Sprintf("Account Sync could not use it in Mattermost: %s Your Mattermost email stays %s, so the two now differ. "+
			"To make them agree, change your email in Zulip back, or change it in Mattermost; if it should work, ask your administrator.",
			strings.TrimSpace(lastErrorText(r)), oldA)
	case account.StateExpired:
		text = fmt.Sprintf("Mattermost's confirmation link for it was not opened within 24 hours, so your Mattermost email stays %s and the two now differ. "+
			"Type `/account email %s` if you want it in Mattermost too.", oldA, ch.NewEmail)
	case account.StateNeedsAttention:
		text = attentionText(r)
	case account.StateRollbackPendingVerification:
		text = rollbackLinkText(r)
	default:
		return ""
	}
	return intro + strings.TrimSpace(text) + reference(ch)
}
