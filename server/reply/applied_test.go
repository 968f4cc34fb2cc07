package reply

import (
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The direct messages about a change made in Zulip elsewhere and applied to
// Mattermost (apply mode) say where it came from, where each system
// stands, and what to do; the job's later outcome reads the same way.
func TestAppliedNotices(t *testing.T) {
	ch := account.Change{ID: "c1", Origin: account.OriginZulipElsewhere, OldEmail: "ann@example.org", NewEmail: "ann@new.example.org",
		Mattermost: account.StatusChanged, Zulip: account.StatusChanged, State: account.StateDone}
	applied := func(ch account.Change, f *account.Failure) string {
		return Notice(account.Notice{Kind: account.NoticeApplied, Result: account.Result{Change: ch, Failure: f}})
	}
	intro := "Your Zulip email was changed to `ann@new.example.org` outside Account Sync"
	assertWords(t, applied(ch, nil), []string{intro, "your Mattermost email is now `ann@new.example.org` as well (it was `ann@example.org`)",
		"If you did not expect this, contact your administrator", "(Reference: `c1`)"}, []string{"could not"})
	// The job's outcome of the same change reads the same way.
	if got, want := Notice(account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: ch}}), applied(ch, nil); got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}

	pending := ch
	pending.State, pending.Mattermost = account.StatePendingVerification, account.StatusPending
	assertWords(t, applied(pending, nil), []string{intro, "Mattermost sent a confirmation link to `ann@new.example.org`",
		"Your Mattermost email stays `ann@example.org` until you open it"}, []string{"is now `ann@new"})

	refused := ch
	refused.State, refused.Mattermost, refused.Zulip = account.StateRefused, account.StatusUntouched, account.StatusUntouched
	assertWords(t, applied(refused, &account.Failure{Code: account.CodeTakenInMattermost}), []string{intro, "could not use it in Mattermost",
		"Another Mattermost account", "Your Mattermost email stays `ann@example.org`", "the two now differ", "change your email in Zulip back"}, []string{"is now `ann@new"})
	assertWords(t, applied(refused, &account.Failure{Code: account.CodeManagedBySSO, Detail: "gitlab"}), []string{"could not use it in Mattermost", "GitLab"}, nil)

	expired := refused
	expired.State = account.StateExpired
	assertWords(t, applied(expired, nil), []string{"not opened within 24 hours", "stays `ann@example.org`", "`/account email ann@new.example.org`"}, nil)

	waiting := refused
	waiting.State = account.StateWaitingForZulip
	assertWords(t, applied(waiting, &account.Failure{Code: account.CodeZulipUnavailable}), []string{"cannot be reached right now", "stays `ann@example.org` for now"}, nil)

	open := ch
	open.State = account.StateMattermostChanged
	if got := applied(open, nil); got != "" {
		t.Errorf("a state with nothing to tell is told: %s", got)
	}
}

// Every state the bot tells a user about has words for an applied change.
func TestAppliedNoticeForEveryNotifyingState(t *testing.T) {
	for _, st := range []account.State{account.StateDone, account.StatePendingVerification, account.StateFailed, account.StateExpired,
		account.StateRolledBack, account.StateNeedsAttention, account.StateRollbackPendingVerification} {
		if !st.Notifies() {
			t.Fatalf("%s does not notify", st)
		}
		ch := account.Change{ID: "c1", Origin: account.OriginZulipElsewhere, OldEmail: "ann@example.org", NewEmail: "ann@new.example.org", State: st}
		if got := Notice(account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: ch, Failure: &account.Failure{Code: account.CodeZulipMovedOn}}}); got == "" {
			t.Errorf("%s: nothing to tell", st)
		}
	}
}
