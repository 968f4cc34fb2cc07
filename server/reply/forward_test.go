package reply

import (
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The direct messages about a change made in Mattermost elsewhere say what
// happened in Zulip, what differs, and what to do.
func TestForwardNotices(t *testing.T) {
	ch := account.Change{ID: "c1", Origin: account.OriginMattermostElsewhere, OldEmail: "ann@example.org", NewEmail: "ann@new.example.org",
		Mattermost: account.StatusChanged, Zulip: account.StatusChanged, State: account.StateDone}
	notice := func(ch account.Change, f *account.Failure) string {
		return Notice(account.Notice{Kind: account.NoticeOutcome, Result: account.Result{Change: ch, Failure: f}})
	}
	assertWords(t, notice(ch, nil), []string{"Your Mattermost email was changed to `ann@new.example.org` outside Account Sync (it was `ann@example.org`)",
		"changed your Zulip email to it too", "(Reference: `c1`)"}, []string{"put back"})

	failed := ch
	failed.State, failed.Zulip, failed.Code = account.StateFailed, account.StatusUntouched, account.CodeTakenInZulip
	assertWords(t, notice(failed, &account.Failure{Code: account.CodeTakenInZulip}),
		[]string{"changed to `ann@new.example.org` outside Account Sync, but Zulip could not take it", "Another Zulip account already uses",
			"Your Zulip email stays `ann@example.org`", "the two now differ", "change your email in Zulip yourself, or set your Mattermost email back"},
		[]string{"put back to", "nothing was changed"})

	waiting := ch
	waiting.State, waiting.Zulip = account.StateMattermostChanged, account.StatusUnknown
	if got := notice(waiting, nil); got != "" {
		t.Errorf("an open forward is told: %s", got)
	}
}

// An offer says what changed where, what each button does, and what to do
// when the user did not change it.
func TestOfferTexts(t *testing.T) {
	o := account.Offer{ID: "o1", Email: "ann@new.example.org", Agreed: "ann@example.org"}
	assertWords(t, Notice(account.Notice{Kind: account.NoticeOffer, Offer: o}),
		[]string{"Your Zulip email was changed to `ann@new.example.org` outside Account Sync", "your Mattermost email is still `ann@example.org`",
			"**" + OfferUse + "**", "**" + OfferKeep + "**", "not offered again", "tell your administrator"}, nil)
	assertWords(t, OfferKept(o), []string{"You kept your Mattermost email `ann@example.org`", "Zulip keeps `ann@new.example.org`", "not be offered again"}, nil)
	assertWords(t, Failure(&account.Failure{Code: account.CodeOfferNotCurrent}), []string{"no longer current", "`/account status`"}, nil)
}

// An admin's change told to its user says where each system stands: never
// "it did not go through" when Mattermost has, or may have, the new address.
func TestOnBehalfNoticeWhereItStands(t *testing.T) {
	ch := account.Change{ID: "c1", OldEmail: "ann@example.org", NewEmail: "ann@new.example.org", State: account.StateMattermostChanged,
		Mattermost: account.StatusChanged, Zulip: account.StatusUntouched}
	notice := func(ch account.Change) string {
		return Notice(account.Notice{Kind: account.NoticeOnBehalf, Result: account.Result{Change: ch}, Admin: "@root"})
	}
	assertWords(t, notice(ch), []string{"Your Mattermost email is now `ann@new.example.org`; Zulip follows"}, []string{"did not go through"})
	ch.State, ch.Mattermost = account.StateNeedsAttention, account.StatusRollbackFailed
	assertWords(t, notice(ch), []string{"Your accounts now differ"}, []string{"did not go through"})
	ch.State = account.StateRollbackPendingVerification
	assertWords(t, notice(ch), []string{"confirmation link that puts your old address back"}, []string{"did not go through"})
	ch.State, ch.Mattermost = account.StateWaitingForZulip, account.StatusUntouched
	assertWords(t, notice(ch), []string{"nothing has changed: your email stays `ann@example.org`"}, nil)
}
