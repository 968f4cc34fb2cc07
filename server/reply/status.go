package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Status is the reply to /account status: the user's open or last change
// in plain words.
func Status(s account.StatusReport) string {
	if s.Failure != nil {
		return Failure(s.Failure)
	}
	if !s.Found {
		return "You have no email change on record. To change your email in Mattermost and Zulip, type `/account email <new-address>`."
	}
	ch := s.Change
	r := account.Result{Change: ch}
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	ref := reference(ch)
	giveUp := ""
	if ch.GiveUpAt != nil {
		giveUp = " Account Sync keeps trying until " + utc(*ch.GiveUpAt) + " UTC."
	}
	next := "shortly"
	if ch.NextAttemptAt != nil {
		next = whenText(*ch.NextAttemptAt, s.Now)
	}
	reason := ""
	if ch.LastError != nil {
		reason = " Last answer: " + strings.TrimSuffix(storedErrorText(ch, ch.LastError), ".") + "."
	}
	switch ch.State {
	case account.StateStarted:
		return fmt.Sprintf("Your email change to %s is being made right now. Look again in a minute.%s", newA, ref)
	case account.StateWaitingForZulip:
		return fmt.Sprintf("Your email change to %s is saved and waits for Zulip, which could not be reached. Nothing has changed yet: your email is still %s.%s Next try %s.%s "+
			"`/account cancel` drops the change.%s", newA, oldA, reason, next, giveUp, ref)
	case account.StatePendingVerification:
		return fmt.Sprintf("Your email change to %s waits for you to open the confirmation link Mattermost mailed to that address (valid until %s UTC). "+
			"Your email stays %s until then; Zulip follows once you open it. The change cannot be cancelled: the link expires by itself.%s",
			newA, utc(ch.CreatedAt.Add(account.VerificationLinkValidity)), oldA, ref)
	case account.StateRollbackPendingVerification:
		return rollbackLinkText(r) + ref
	case account.StateMattermostChanged:
		return fmt.Sprintf("Your Mattermost email is now %s (it was %s); Zulip still has to follow.%s Next try %s.%s If Zulip refuses the change or cannot be reached until then, your Mattermost email is put back.%s",
			newA, oldA, reason, next, giveUp, ref)
	case account.StateCancelled:
		return fmt.Sprintf("Your last email change, to %s, was cancelled. Nothing was changed; your email is %s.%s", newA, oldA, ref)
	default:
		if n := outcomeNotice(r); n != "" {
			return "Your last email change: " + n
		}
		return fmt.Sprintf("Your last email change, to %s, is %s.%s", newA, strings.ReplaceAll(string(ch.State), "_", " "), ref)
	}
}

// Cancel is the reply to /account cancel.
func Cancel(r account.CancelResult) string {
	newA := code(r.Change.NewEmail)
	switch r.Outcome {
	case account.CancelOutcomeCancelled:
		return fmt.Sprintf("Cancelled your email change to %s. Nothing was changed; your email is still %s.", newA, code(r.Change.OldEmail))
	case account.CancelOutcomeNothingOpen:
		return "You have no email change in progress, so there is nothing to cancel."
	case account.CancelOutcomePendingLink:
		return fmt.Sprintf("Your email change to %s waits for the confirmation link Mattermost mailed to that address, and cannot be cancelled: "+
			"if you do not open the link, it expires by itself at %s UTC and nothing changes. If you open it, Zulip follows.",
			newA, utc(r.Change.CreatedAt.Add(account.VerificationLinkValidity)))
	case account.CancelOutcomeAlreadyChanged:
		return fmt.Sprintf("Your Mattermost email already is %s, so this change cannot be cancelled; Account Sync is bringing Zulip along. "+
			"To go back, wait until it is done (`/account status`) and then change your email again.", newA)
	case account.CancelOutcomeBusy:
		return "Your email change is being made right now. Look again with `/account status` in a minute."
	case account.CancelOutcomeRollbackLink:
		return "There is nothing left to cancel: Zulip did not take your change, and your old address comes back in Mattermost once you open the confirmation link mailed to " +
			code(r.Change.OldEmail) + "."
	case account.CancelOutcomeRefused:
		return Failure(r.Failure) + nothingChanged
	default:
		return failureTexts[account.CodeInternal]
	}
}
