package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
)

// Review 7: with "Emails changed in Zulip outside Account Sync" = Only
// report, the event follower idles and drops its queue. Switching the
// setting back to Ask (or Apply) used to build a new Zulip client, so the
// follower registered again WITH a full scan: what changed in Zulip while
// only reported was offered at once. The mode is not part of the Zulip
// connection, so the client is now kept: the follower registers a new
// queue without any scan, and an address changed in Zulip meanwhile is
// offered only at the next scheduled scan (15 min by default, up to 24 h).
func TestReview7SwitchingBackFromReportScansAgain(t *testing.T) {
	b := newDriftBed(t, false)
	var mu sync.Mutex
	cfg := *b.p.getConfiguration()
	set := func(mode string) {
		mu.Lock()
		cfg.ZulipChangesElsewhere = mode
		mu.Unlock()
		if err := b.p.OnConfigurationChange(); err != nil {
			t.Fatal(err)
		}
	}
	b.api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		mu.Lock()
		defer mu.Unlock()
		*args.Get(0).(*configuration) = cfg
	}).Return(nil)

	f := &eventFollower{p: b.p, done: make(chan struct{})}
	b.p.events = f
	ctx, cancel := context.WithCancel(context.Background())
	go func() { defer close(f.done); f.run(ctx) }()
	t.Cleanup(func() { cancel(); <-f.done })

	registered := func() int {
		n := 0
		for _, r := range b.zulip.Requests() {
			if r.Method == http.MethodPost && r.Path == "/api/v1/register" {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for registered() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if registered() == 0 {
		t.Fatal("the follower never registered")
	}

	set(changesReport)
	b.zulip.ChangeEmailInSettings(b.bobZ, "bob.new@example.org") // only reported
	time.Sleep(time.Second)
	b.zulip.ResetRequests()
	set(zulipChangesAsk)

	deadline = time.Now().Add(10 * time.Second)
	for b.zulipUsersReads() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if b.zulipUsersReads() == 0 {
		t.Errorf("back to %q after %q: no scan in 10 s (%d registrations); bob's address changed in Zulip meanwhile waits for the scheduled scan", zulipChangesAsk, changesReport, registered())
	}
}
