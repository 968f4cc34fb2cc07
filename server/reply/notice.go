package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Notice is the direct message the bot sends a user: where a change ended
// in the background or the link that waits to be opened, or that an admin
// asked to change their email. It is empty when there is nothing to tell.
func Notice(n account.Notice) string {
	if n.Kind == account.NoticeOnBehalf {
		return onBehalfNotice(n.Result, n.Admin)
	}
	if n.Kind == account.NoticeOffer {
		return Offer(n.Offer)
	}
	if n.Kind == account.NoticeApplied {
		return appliedNotice(n.Result)
	}
	if n.Kind == account.NoticeMigration {
		return MigrationNotice(n.Migration)
	}
	if n.Kind == account.NoticeMigrationPlan {
		return MigrationPlan(n.Migration, "`GET /plugins/account-sync/api/v1/migrations/"+n.Migration.ID+"`")
	}
	return outcomeNotice(n.Result)
}

// outcomeNotice tells where a change moved in the background: where it
// ended, or that it waits for the user's link.
func outcomeNotice(r account.Result) string {
	ch := r.Change
	switch ch.Origin {
	case account.OriginMattermostElsewhere:
		return forwardNotice(r)
	case account.OriginZulipElsewhere:
		return appliedNotice(r)
	}
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var text string
	switch ch.State {
	case account.StateDone:
		if ch.Zulip == account.StatusChanged {
			text = fmt.Sprintf("Your email change is complete: your email is now %s in Mattermost and in Zulip (it was %s).", newA, oldA)
		} else {
			text = fmt.Sprintf("Your email change is complete: your email is now %s in Mattermost (it was %s). Zulip sync was off for this change, so Zulip was not changed: if you use Zulip, change your email there too.", newA, oldA)
		}
	case account.StatePendingVerification:
		text = fmt.Sprintf("Zulip can be reached again, so Account Sync went on with your email change: Mattermost sent a confirmation link to %s. "+
			"Your email stays %s until you open it (it is valid for 24 hours); Zulip follows once you do.", newA, oldA)
	case account.StateFailed:
		if stopCode(r) == account.CodeChangedMeanwhile {
			text = fmt.Sprintf("Your email change to %s was stopped: your Mattermost email was changed in another way meanwhile (it is now %s), so Account Sync did not change Zulip (it keeps %s).",
				newA, code(detail(r)), oldA)
			break
		}
		text = fmt.Sprintf("Your email change to %s was not made, and nothing was changed: your email is still %s. %s", newA, oldA, lastErrorText(r))
	case account.StateExpired:
		text = fmt.Sprintf("Your email change to %s expired: the confirmation link was not opened within 24 hours. Nothing was changed; your email is still %s. "+
			"Type `/account email` again if you still want the change.", newA, oldA)
	case account.StateRolledBack:
		text = fmt.Sprintf("Zulip did not take your email change to %s, so your Mattermost email was put back to %s. %s", newA, oldA, lastErrorText(r))
	case account.StateNeedsAttention:
		text = attentionText(r)
	case account.StateRollbackPendingVerification:
		text = rollbackLinkText(r)
	default:
		return ""
	}
	return strings.TrimSpace(text) + reference(ch)
}

// onBehalfNotice tells a user that admin asked to change their email: who,
// to what, and where it stands.
func onBehalfNotice(r account.Result, admin string) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var where string
	switch ch.State {
	case account.StateDone:
		where = fmt.Sprintf("Your email is now %s (it was %s).", newA, oldA)
	case account.StatePendingVerification:
		where = fmt.Sprintf("Mattermost sent a confirmation link to %s; your email stays %s until it is opened.", newA, oldA)
	case account.StateWaitingForZulip:
		where = fmt.Sprintf("Zulip could not be reached yet, so nothing has changed: your email stays %s for now. Account Sync keeps trying and tells you when it is done.", oldA)
	case account.StateMattermostChanged:
		where = fmt.Sprintf("Your Mattermost email is now %s; Zulip follows, and Account Sync tells you when it has.", newA)
	case account.StateNeedsAttention:
		where = attentionText(r)
	case account.StateRollbackPendingVerification:
		where = "Zulip did not take it; see the other message from Account Sync about the confirmation link that puts your old address back."
	default:
		where = fmt.Sprintf("It did not go through: your email stays %s.", oldA)
	}
	return fmt.Sprintf("%s, a system administrator, asked to change your email to %s in Mattermost and Zulip. %s If you did not expect this, contact your administrator.%s",
		code(admin), newA, where, reference(ch))
}

// EmailFor is the reply to an admin's /account email @user: the change of
// another user's email, for the admin.
func EmailFor(r account.Result, username string) string {
	ch := r.Change
	u, oldA, newA := code("@"+username), code(ch.OldEmail), code(ch.NewEmail)
	var text string
	switch ch.State {
	case account.StateDone:
		if ch.Zulip == account.StatusChanged {
			text = fmt.Sprintf("The email of %s is now %s in Mattermost and in Zulip (it was %s). They got a direct message about it.", u, newA, oldA)
		} else {
			text = fmt.Sprintf("The email of %s is now %s in Mattermost (it was %s); Zulip sync is off for this change, so Zulip was not changed. They got a direct message about it.", u, newA, oldA)
		}
	case account.StatePendingVerification:
		text = fmt.Sprintf("Mattermost sent a confirmation link to %s. The email of %s stays %s until the link is opened; then Zulip follows.", newA, u, oldA)
	case account.StateWaitingForZulip:
		text = fmt.Sprintf("Zulip cannot be reached right now, so nothing was changed yet. The change of %s to %s is saved and will be made in both systems or not at all (`/account status %s`).", u, newA, "@"+username)
	case account.StateMattermostChanged:
		text = fmt.Sprintf("The Mattermost email of %s is now %s, but Zulip did not take it yet; Account Sync keeps trying, and puts Mattermost back if Zulip refuses (`/account status %s`).", u, newA, "@"+username)
	default:
		return fmt.Sprintf("The email of %s was not changed as asked: %s", u, strings.TrimSpace(Email(r))) // Email adds the reference
	}
	return text + reference(ch)
}
