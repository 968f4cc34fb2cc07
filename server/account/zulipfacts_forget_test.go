package account

import (
	"context"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Forgetting the facts makes the next change read Zulip's server settings
// again, through the real client against the emulator: nothing under the
// facts (the client) keeps its own copy that would answer instead.
func TestForgottenFactsReadTheServerSettingsAgain(t *testing.T) {
	const botEmail, botKey = "sync-bot@zulip.example.org", "0123456789abcdefABCDEF0123456789"
	zs := zuliptest.NewServer()
	t.Cleanup(zs.Close)
	zs.AddBot(botEmail, botKey, zuliptest.RoleOwner, true)
	zs.AddUser(zuliptest.User{Email: ann, FullName: "Ann"})
	zc, err := zulip.NewClient(zulip.Config{SiteURL: zs.URL, BotEmail: botEmail, APIKey: botKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}

	h := newHarness([]User{annUser()})
	h.facts = NewZulipFacts(ZulipFactsTTL)
	h.opts.MaxChangesPerDay = 0
	set := h.opts
	set.Now = h.clock.now
	svc := newTestService(h.deps(zc), set)

	settingsRead := func() int {
		n := 0
		for _, r := range zs.Requests() {
			if r.Method == "GET" && r.Path == "/api/v1/server_settings" {
				n++
			}
		}
		return n
	}
	change := func(to string, wantReads int) {
		t.Helper()
		res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", SessionID: "s-u1", NewEmail: to})
		if res.Change.State != StateDone {
			t.Fatalf("change to %s: state %s, failure %v", to, res.Change.State, res.Failure)
		}
		if got := settingsRead(); got != wantReads {
			t.Fatalf("after the change to %s Zulip's settings were read %d times, want %d", to, got, wantReads)
		}
	}

	change("ann2@example.org", 1) // the facts are learnt
	change("ann3@example.org", 1) // and remembered
	h.facts.Forget()
	change("ann4@example.org", 2) // forgotten: read again
}
