package reply

import (
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Review: the words of an applied change (apply mode) in the states the job
// can bring it to (account's TestReviewApplyChangedMeanwhileReachesTheUser
// and TestReviewApplyRollbackLinkReachesTheUser reach them).

// Changed in Mattermost by other means while the applied change waited:
// Mattermost has ann.x now, not the old address.
func TestReviewAppliedNoticeChangedMeanwhile(t *testing.T) {
	r := stopped(account.StateFailed, account.StatusUntouched, account.StatusUntouched, account.CodeChangedMeanwhile, "ann.x@example.org")
	r.Change.Origin = account.OriginZulipElsewhere
	text := Notice(account.Notice{Kind: account.NoticeOutcome, Result: r})
	if strings.Contains(text, "Your Mattermost email stays `"+ann+"`") || !strings.Contains(text, "ann.x@example.org") {
		t.Errorf("says Mattermost stays at the old address, while it has ann.x@example.org:\n%s", text)
	}
}

// Mattermost was changed (the link opened), Zulip then refused, and the
// way back waits for a link mailed to the old address: the user must be
// told to open it, as for any other change.
func TestReviewAppliedNoticeRollbackLink(t *testing.T) {
	r := stopped(account.StateRollbackPendingVerification, account.StatusRollbackPending, account.StatusUntouched, account.CodeZulipAccountInactive, "")
	r.Change.Origin = account.OriginZulipElsewhere
	if !r.Change.State.Notifies() {
		t.Fatal("not a notified state")
	}
	text := Notice(account.Notice{Kind: account.NoticeOutcome, Result: r})
	plain := r
	plain.Change.Origin = ""
	if text == "" {
		t.Errorf("nothing is posted (empty text); a change of another origin says:\n%s", Notice(account.Notice{Kind: account.NoticeOutcome, Result: plain}))
	}
}
