package reply

import (
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Email is the reply to the user's own /account email (and the HTTP API's
// message): what happened, and what to do.
func Email(r account.Result) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	var b strings.Builder

	switch ch.State {
	case account.StateDone:
		if ch.Zulip == account.StatusChanged {
			fmt.Fprintf(&b, "Your email is now %s in Mattermost and in Zulip (it was %s).", newA, oldA)
		} else {
			fmt.Fprintf(&b, "Your email is now %s in Mattermost (it was %s). Zulip sync is turned off on this server, so Zulip was not changed.", newA, oldA)
		}
		b.WriteString(" Mattermost tells your old address about the change when email notifications are on.")
	case account.StatePendingVerification:
		fmt.Fprintf(&b, "Mattermost sent a confirmation link to %s. Your email stays %s until you open that link (it is valid for 24 hours).", newA, oldA)
		if ch.Zulip != account.StatusDisabled {
			b.WriteString(" Once you open it, Account Sync changes Zulip too and sends you a direct message.")
		}
	case account.StateWaitingForZulip:
		why := "Zulip cannot be reached right now"
		if r.Failure != nil && r.Failure.Code == account.CodeZulipRateLimited {
			why = "Zulip is busy right now"
		}
		fmt.Fprintf(&b, "%s, so nothing was changed yet. Your change to %s is saved: Account Sync tries again %s, makes it in both systems or not at all, and sends you a direct message when it is done. "+
			"`/account status` shows where it stands; `/account cancel` drops it.", why, newA, nextText(r))
	case account.StateMattermostChanged:
		if ch.Zulip == account.StatusUnknown {
			fmt.Fprintf(&b, "Your Mattermost email is now %s (it was %s). Zulip did not answer clearly in time (no answer, or a server error), so Account Sync is checking whether Zulip took the change too; "+
				"a direct message tells you how it ended, usually within a minute. `/account status` shows where it stands.", newA, oldA)
			break
		}
		fmt.Fprintf(&b, "Your Mattermost email is now %s (it was %s), but Zulip did not take it yet. Account Sync tries Zulip again %s and sends you a direct message when Zulip has it too; "+
			"if Zulip refuses it, your Mattermost email is put back. `/account status` shows where it stands.", newA, oldA, nextText(r))
	case account.StateRefused:
		b.WriteString(failureText(r, r.Failure))
		if r.Failure == nil || r.Failure.Code != account.CodeSameAddress {
			b.WriteString(nothingChanged)
		}
	case account.StateFailed:
		b.WriteString(failureText(r, r.Failure))
		b.WriteString(nothingChanged)
	case account.StateRolledBack:
		fmt.Fprintf(&b, "Zulip did not take the change, so your Mattermost email was put back to %s. Nothing was changed. %s", oldA, failureText(r, r.Failure))
	case account.StateNeedsAttention:
		b.WriteString(attentionText(r))
	case account.StateRollbackPendingVerification:
		b.WriteString(rollbackLinkText(r))
	default:
		b.WriteString(failureTexts[account.CodeInternal])
	}
	if showsReference(r) {
		b.WriteString(reference(ch))
	}
	return b.String()
}

// showsReference tells whether the reply carries the change ID: whenever an
// admin may need to find the change in the log or the records.
func showsReference(r account.Result) bool {
	switch {
	case r.Change.ID == "" || r.Change.State == account.StateDone:
		return false
	case r.Change.State == account.StateRefused:
		return r.Failure != nil && r.Failure.Code.ForAdmin()
	default:
		return true
	}
}

// rollbackLinkText says which link puts the old address back, and why.
func rollbackLinkText(r account.Result) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	until := "within 24 hours"
	if deadline, ok := ch.RollbackLinkDeadline(); ok {
		until = "before " + utc(deadline) + " UTC"
	}
	return fmt.Sprintf("Zulip did not take your email change to %s (%s), so Account Sync is putting your Mattermost email back to %s. "+
		"This server confirms every email change by a link, so Mattermost has mailed a confirmation link to your old address %s: "+
		"**open that link %s** to get %s back. Until you do, Mattermost has %s and Zulip still has %s. If the link is not opened in time, your administrator is told.",
		newA, strings.TrimSuffix(lastErrorText(r), "."), oldA, oldA, until, oldA, newA, oldA)
}

// attentionText says how the systems differ, or may, when an admin must
// look.
func attentionText(r account.Result) string {
	ch := r.Change
	oldA, newA := code(ch.OldEmail), code(ch.NewEmail)
	switch c := stopCode(r); {
	case c == account.CodeRollbackLinkExpired:
		return fmt.Sprintf("**Your accounts now differ:** Mattermost has %s but Zulip still has %s. Zulip did not take the change, and the confirmation link that puts %s back in Mattermost was not opened within 24 hours. "+askAdmin,
			newA, oldA, oldA)
	case c == account.CodeChangedMeanwhile && ch.Zulip == account.StatusChanged:
		return fmt.Sprintf("**Your accounts now differ:** your Mattermost email was changed in another way meanwhile (it is now %s), while Zulip took %s from this change. "+askAdmin,
			code(detail(r)), newA)
	case c == account.CodeChangedMeanwhile && ch.Zulip == account.StatusUnknown:
		return fmt.Sprintf("Your Mattermost email was changed in another way meanwhile (it is now %s), and Account Sync cannot tell whether Zulip took %s from this change (it did not answer clearly, and cannot be read now). "+askAdmin,
			code(detail(r)), newA)
	case c == account.CodeChangedMeanwhile:
		return fmt.Sprintf("**Your accounts now differ:** your Mattermost email was changed in another way meanwhile (it is now %s), while Zulip still has %s. "+askAdmin,
			code(detail(r)), oldA)
	case ch.Mattermost == account.StatusRollbackFailed:
		return fmt.Sprintf("**Your accounts now differ:** Mattermost has %s but Zulip still has %s. Zulip did not take the change (%s) and putting Mattermost back failed. "+askAdmin,
			newA, oldA, strings.TrimSuffix(failureText(r, r.Failure), "."))
	case ch.Mattermost == account.StatusUnknown && ch.Zulip == account.StatusChanged:
		return fmt.Sprintf("Zulip has %s, but Account Sync could not read your Mattermost account to tell whether it has it too. "+askAdmin, newA)
	case ch.Mattermost == account.StatusUnknown && c == account.CodeUserUnreadable:
		return fmt.Sprintf("Account Sync could not read your Mattermost account, so it cannot tell whether your email change to %s was made there. "+askAdmin, newA)
	case ch.Mattermost == account.StatusUnknown:
		return "Mattermost accepted the change but could not confirm it, so Zulip was not changed. " + askAdmin
	case ch.Zulip == account.StatusChanged:
		return fmt.Sprintf("Your email change to %s could not be finished (%s), although Zulip has %s. "+askAdmin, newA, strings.TrimSuffix(failureText(r, r.Failure), "."), newA)
	default:
		return fmt.Sprintf("Your Mattermost email is now %s (it was %s), but Zulip did not confirm the change: it did not answer in time, so it may or may not have %s. "+
			"Your administrator has been told (see the server log); please do not change your email again until they have checked.", newA, oldA, newA)
	}
}

// nextText says when the job tries next: "in about 2 minutes (after ...)".
func nextText(r account.Result) string {
	if r.Change.NextAttemptAt == nil {
		return "shortly"
	}
	return whenText(*r.Change.NextAttemptAt, now(r))
}

// stopCode is why the change stopped: the result's failure, else the
// record's.
func stopCode(r account.Result) account.Code {
	switch {
	case r.Failure != nil:
		return r.Failure.Code
	case r.Change.Code != "":
		return r.Change.Code
	case r.Change.LastError != nil:
		return r.Change.LastError.Code
	}
	return ""
}

// detail is the failure's safe detail (the address Mattermost has now, for
// CodeChangedMeanwhile), from the result or the record's last error.
func detail(r account.Result) string {
	if r.Failure != nil && r.Failure.Detail != "" {
		return r.Failure.Detail
	}
	if r.Change.LastError != nil && r.Change.LastError.Detail != "" {
		return r.Change.LastError.Detail
	}
	return "another address"
}
