package reply

import (
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The replies to /account link and unlink for the results account's link
// tests get (TestLinkByCode, TestLinkCodeTriesAndExpiry, the limits).
func TestLinkTexts(t *testing.T) {
	const zAddr = "ann.z@example.org"
	until := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	after := "(after " + until.UTC().Format("2006-01-02 15:04") + " UTC)"
	open := change(account.StateWaitingForZulip, account.StatusUntouched, account.StatusUntouched)
	for _, tc := range []struct {
		name string
		res  account.LinkResult
		want []string
	}{
		{"code sent", account.LinkResult{Outcome: account.LinkOutcomeCodeSent, Address: zAddr}, []string{"6-digit code", "`ann.z@example.org`", "within 10 minutes"}},
		{"wrong code", account.LinkResult{Outcome: account.LinkOutcomeWrongCode, Address: zAddr, TriesLeft: account.LinkCodeTries - 1}, []string{"That code is not right", "4 more tries"}},
		{"wrong code, the last try", account.LinkResult{Outcome: account.LinkOutcomeWrongCode, Address: zAddr}, []string{"That code is not right, and it was the last try"}},
		{"right code", account.LinkResult{Outcome: account.LinkOutcomeLinked, Address: zAddr}, []string{"is now linked to the Zulip account `ann.z@example.org`"}},
		{"linking again", account.LinkResult{Outcome: account.LinkOutcomeAlreadyLinked, Address: annNew}, []string{"/account unlink"}},
		{"unlink", account.LinkResult{Outcome: account.LinkOutcomeUnlinked, Address: annNew}, []string{"no longer linked to the Zulip account `" + annNew + "`"}},
		{"expired code", account.LinkResult{Outcome: account.LinkOutcomeCodeExpired, Address: zAddr}, []string{"expired"}},
		{"TestLinkUnlinkLinkKeepsTheCodeCount", account.LinkResult{Outcome: account.LinkOutcomeTooManyCodes, Address: zAddr, Until: until},
			[]string{"You can ask for a new code in ", after}},
		{"TestZulipAccountCodeLimit", account.LinkResult{Outcome: account.LinkOutcomeZulipCodeLimit, Address: zAddr, Until: until},
			[]string{"`ann.z@example.org` was already sent 5 codes in the last 24 hours", "You can ask for a new code in ", after, "tell your administrator"}},
		{"TestUnlinkWaitsForTheOpenChange", account.LinkResult{Outcome: account.LinkOutcomeFailed, Failure: fail(account.CodeChangeOpen), Open: &open},
			[]string{"already have an email change in progress (to `ann@new.example.org`)", "Nothing was changed"}},
		{"TestLinkWithSlashAddressRefused", account.LinkResult{Outcome: account.LinkOutcomeFailed, Failure: fail(account.CodeAddressSlash), Input: "ann/x@example.org"},
			[]string{"`ann/x@example.org`", "`user<ID>@<zulip-host>`"}},
		{"TestLinkCodeForAnAccountLinkedElsewhere", account.LinkResult{Outcome: account.LinkOutcomeFailed, Failure: fail(account.CodeZulipLinkedElsewhere), Address: zAddr},
			[]string{"The Zulip account with the address `ann.z@example.org` is already linked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertWords(t, Link(tc.res), tc.want, nil)
		})
	}
}

// Every outcome of /account link and unlink has a reply
// (TestLinkRefusals' outcomes among them).
func TestEveryLinkOutcomeHasAReply(t *testing.T) {
	for _, o := range []account.LinkOutcome{
		account.LinkOutcomeCodeSent, account.LinkOutcomeLinked, account.LinkOutcomeAlreadyLinked, account.LinkOutcomeWrongCode,
		account.LinkOutcomeCodeExpired, account.LinkOutcomeNoCode, account.LinkOutcomeTooManyCodes, account.LinkOutcomeZulipCodeLimit,
		account.LinkOutcomeNoZulipUser, account.LinkOutcomeUnlinked, account.LinkOutcomeNotLinked,
	} {
		if strings.TrimSpace(Link(account.LinkResult{Outcome: o, Address: "ann.z@example.org"})) == "" {
			t.Errorf("no reply for %s", o)
		}
	}
	for _, c := range []account.Code{account.CodeAddressInvalid, account.CodeZulipUnavailable, account.CodeZulipUnauthorized, account.CodeTooManyAttempts} {
		text := Link(account.LinkResult{Outcome: account.LinkOutcomeFailed, Failure: fail(c), Input: "ann"})
		if strings.TrimSpace(text) == "" || !strings.HasSuffix(text, "Nothing was changed.") {
			t.Errorf("%s: %q", c, text)
		}
	}
}

// The message the bot sends in Zulip names who asked and carries the
// command to type (account's TestLinkByCode reads the code from it).
func TestLinkCodeMessage(t *testing.T) {
	assertWords(t, LinkCodeMessage("ann", "123456"), []string{"**Account Sync**", "`@ann`", "`/account link 123456`", "within 10 minutes", "nothing changes without the code"}, nil)
	assertWords(t, LinkCodeMessage("a`nn", "123456"), []string{"`@a'nn`"}, nil)
}

// The replies to /account link-all for account's TestLinkAll.
func TestLinkAllTexts(t *testing.T) {
	untrusted := account.LinkAllReport{Unverified: 1, Skipped: []account.SkippedUser{{Username: "ann", Email: "Ann@Example.org", Reason: account.SkipUnverified}}}
	assertWords(t, LinkAll(untrusted), []string{"- @ann (`Ann@Example.org`): email not verified in Mattermost", "`/account link-all unverified`"}, nil)

	trusted := account.LinkAllReport{Linked: 1, AlreadyLinked: 1, Trusted: true, Skipped: []account.SkippedUser{
		{Username: "root", Email: "root@example.org", Reason: account.SkipNoZulipAccount},
		{Username: "bob", Email: "bob@example.org", Reason: account.SkipNoZulipAccount},
		{Username: "cat", Email: "cat@example.org", Reason: account.SkipZulipBot},
		{Username: "dan", Email: "dan@example.org", Reason: account.SkipZulipInactive},
		{Username: "eve", Email: "eve@example.org", Reason: account.SkipLinkedElsewhere},
		{Username: "fay", Email: "fay@example.org", Reason: account.SkipDeactivated},
	}}
	assertWords(t, LinkAll(trusted), []string{"Linked 1 account.", "Already linked before: 1.", "Skipped: 6.", "Unverified Mattermost emails were trusted",
		"- @dan (`dan@example.org`): the Zulip account is deactivated"}, []string{"abot"})

	assertWords(t, LinkAll(account.LinkAllReport{Failure: fail(account.CodeAdminOnly)}), []string{"Only system administrators"}, nil)
	assertWords(t, LinkAll(account.LinkAllReport{Failure: fail(account.CodeZulipUnauthorized)}), []string{"credentials", "Nothing was changed"}, nil)

	many := account.LinkAllReport{}
	for range maxSkippedLines + 3 {
		many.Skipped = append(many.Skipped, account.SkippedUser{Username: "x", Email: "x@example.org", Reason: account.SkipSaveFailed})
	}
	assertWords(t, LinkAll(many), []string{"\n- and 3 more"}, nil)
}

// Every reason link-all skips a user for has a text.
func TestEverySkipReasonHasAText(t *testing.T) {
	for _, r := range account.SkipReasons() {
		if skipTexts[r] == "" {
			t.Errorf("no text for %s", r)
		}
	}
	if len(skipTexts) != len(account.SkipReasons()) {
		t.Errorf("%d texts for %d reasons", len(skipTexts), len(account.SkipReasons()))
	}
}
