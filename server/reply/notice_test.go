package reply

import (
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// outcome is the notice of a change that moved on in the background.
func outcome(r account.Result) account.Notice {
	return account.Notice{Kind: account.NoticeOutcome, Result: r}
}

// The bot's direct messages for the notices account's tests expect (by
// their facts: assertNotes, assertLastNote, lastNote); each case is named
// after the test.
func TestNoticeTexts(t *testing.T) {
	const (
		changed, mm, none = account.StatusChanged, account.StatusChanged, account.StatusUntouched
	)
	done := func(z account.SystemStatus) account.Result {
		return account.Result{Change: change(account.StateDone, mm, z)}
	}
	// lastErrorOnly is r as the job may hand it over: the reason in the
	// record only.
	lastErrorOnly := func(r account.Result) account.Result {
		r.Failure = nil
		return r
	}
	rollbackLink := stopped(account.StateRollbackPendingVerification, account.StatusRollbackPending, none, account.CodeTakenInZulip, "")
	rollbackLink.Change.GiveUpAt = ptr(testNow.Add(25 * time.Hour))
	for _, tc := range []struct {
		name         string
		n            account.Notice
		want, absent []string
	}{
		{"TestJobRetriesAChangeWaitingForZulip: Zulip back", outcome(done(changed)),
			[]string{"complete", "`ann@new.example.org` in Mattermost and in Zulip", "c1"}, nil},
		{"TestJobRetriesAChangeWaitingForZulip: retry time runs out", outcome(stopped(account.StateFailed, none, none, account.CodeGaveUp, "")),
			[]string{"was not made, and nothing was changed", "stopped trying"}, nil},
		{"TestJobRetriesAChangeWaitingForZulip: a permanent refusal at the checks", outcome(stopped(account.StateFailed, none, none, account.CodeTakenInZulip, "")),
			[]string{"was not made", "Another Zulip account already uses"}, nil},
		{"TestJobRetriesAChangeWaitingForZulip: the email changed by other means", outcome(stopped(account.StateFailed, none, none, account.CodeChangedMeanwhile, "elsewhere@example.org")),
			[]string{"changed in another way meanwhile", "`elsewhere@example.org`"}, nil},
		{"TestJobBringsZulipAlong: Zulip takes it", outcome(done(changed)), []string{"complete"}, nil},
		{"TestJobBringsZulipAlong: Zulip refuses for good", outcome(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeTakenInZulip, "")),
			[]string{"put back to `ann@example.org`", "Another Zulip account"}, nil},
		{"TestJobBringsZulipAlong: Zulip unreachable until the time is up", outcome(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeGaveUp, "")),
			[]string{"put back", "stopped trying"}, nil},
		{"TestJobBringsZulipAlong: the time runs out during the last try", outcome(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeZulipRateLimited, "")),
			[]string{"put back to `ann@example.org`"}, nil},
		{"TestJobFollowsTheConfirmationLink: link opened", outcome(done(changed)), []string{"complete", "in Mattermost and in Zulip"}, nil},
		{"TestJobFollowsTheConfirmationLink: link never opened", outcome(stopped(account.StateExpired, none, none, account.CodeLinkExpired, "")),
			[]string{"expired", "Nothing was changed"}, nil},
		{"TestGiveUpAfterALostAnswerReadsZulipFirst", outcome(stopped(account.StateNeedsAttention, mm, account.StatusUnknown, account.CodeGaveUp, "")),
			[]string{"may or may not have"}, nil},
		{"TestReviewChangedMeanwhileUnreadableZulipTextLies", outcome(stopped(account.StateNeedsAttention, mm, account.StatusUnknown, account.CodeChangedMeanwhile, third)),
			[]string{third}, []string{"Your Mattermost email is now `" + annNew + "`", "did not change Zulip", "nothing was changed"}},
		{"TestReviewSyncTurnedOffAfterLostAnswerSaysZulipUntouched: done without Zulip", outcome(done(account.StatusDisabled)), []string{"Zulip was not changed"}, nil},
		{"TestReviewSyncTurnedOffAfterLostAnswerSaysZulipUntouched: done with Zulip", outcome(done(changed)), nil, []string{"Zulip was not changed"}},
		{"TestSyncTurnedOffWhileAChangeWaits", outcome(stopped(account.StateFailed, none, none, account.CodeSyncTurnedOff, "")),
			[]string{"turned Zulip sync off", "`/account email` again"}, nil},
		{"TestLostAnswerIsSettledByTheJob: done", outcome(done(changed)), []string{"Your email change is complete"}, nil},
		{"TestLostAnswerIsSettledByTheJob: rolled back", outcome(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeTakenInZulip, "")),
			[]string{"put back to `" + ann + "`"}, nil},
		{"TestChangedMeanwhileAfterALostAnswerReadsZulip: Zulip took it", outcome(stopped(account.StateNeedsAttention, mm, changed, account.CodeChangedMeanwhile, third)),
			[]string{"Your accounts now differ", "it is now `" + third + "`", "Zulip took `" + annNew + "`"}, []string{"nothing was changed"}},
		{"TestChangedMeanwhileAfterALostAnswerReadsZulip: Zulip kept the old address", outcome(stopped(account.StateFailed, mm, none, account.CodeChangedMeanwhile, third)),
			[]string{"was stopped", "it is now `" + third + "`", "did not change Zulip"}, []string{"nothing was changed"}},
		{"TestChangedMeanwhileAfterALostAnswerReadsZulip: an interrupted change", outcome(stopped(account.StateNeedsAttention, none, changed, account.CodeChangedMeanwhile, third)),
			[]string{"Your accounts now differ"}, nil},
		{"TestSyncTurnedOnWhileALinkIsPending", outcome(done(account.StatusDisabled)), []string{"complete", "Zulip sync was off for this change"}, nil},
		{"TestRollbackWaitsForItsConfirmationLink: which link to open", outcome(rollbackLink),
			[]string{"open that link", "`" + ann + "`", "Mattermost has `" + annNew + "` and Zulip still has `" + ann + "`", "Another Zulip account already uses", "before 2026-11-24 10:00 UTC"}, nil},
		{"TestRollbackWaitsForItsConfirmationLink: which link to open, from the record", outcome(lastErrorOnly(rollbackLink)),
			[]string{"open that link", "Another Zulip account already uses"}, nil},
		{"TestRollbackWaitsForItsConfirmationLink: the old address comes back", outcome(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeTakenInZulip, "")),
			[]string{"put back to `" + ann + "`"}, nil},
		{"TestRollbackWaitsForItsConfirmationLink: the old address comes back, from the record",
			outcome(lastErrorOnly(stopped(account.StateRolledBack, account.StatusRolledBack, none, account.CodeTakenInZulip, ""))),
			[]string{"put back to `" + ann + "`", "Another Zulip account already uses"}, nil},
		{"TestRollbackWaitsForItsConfirmationLink: the link is never opened", outcome(stopped(account.StateNeedsAttention, account.StatusRollbackFailed, none, account.CodeRollbackLinkExpired, "")),
			[]string{"Your accounts now differ", "was not opened within 24 hours"}, nil},
		{"TestReviewRollbackLinkChangedMeanwhileTextLies", outcome(stopped(account.StateNeedsAttention, account.StatusRollbackFailed, none, account.CodeChangedMeanwhile, third)),
			[]string{third}, []string{"may or may not have", "did not answer in time"}},
		{"TestChangeOnBehalf", account.Notice{Kind: account.NoticeOnBehalf, Admin: "@boss", Result: done(changed)},
			[]string{"`@boss`, a system administrator, asked to change your email to `ann@new.example.org`", "(Reference: `c1`)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertWords(t, Notice(tc.n), tc.want, tc.absent)
		})
	}
}

// Every state account tells a user about has a text; the others have
// none, and the bot posts nothing for them.
func TestEveryNotifiedStateHasANotice(t *testing.T) {
	states := []account.State{
		account.StateNew, account.StateRefused, account.StateStarted, account.StateWaitingForZulip, account.StatePendingVerification,
		account.StateMattermostChanged, account.StateRollbackPendingVerification, account.StateDone, account.StateRolledBack,
		account.StateFailed, account.StateExpired, account.StateCancelled, account.StateNeedsAttention,
	}
	for _, s := range states {
		text := Notice(outcome(stopped(s, account.StatusChanged, account.StatusUntouched, account.CodeTakenInZulip, "")))
		if (text != "") != s.Notifies() {
			t.Errorf("%s: notifies %v, text %q", s, s.Notifies(), text)
		}
	}
}
