package main

import (
	"context"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// The job runs at once after activation, then every interval, sooner when
// a retry is due, but never twice within a second.
func TestSyncJobWait(t *testing.T) {
	p, _ := newTestPlugin(t, configuration{JobIntervalSeconds: "60"})
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	p.store = store.New(&pluginapi.MemoryStore{})
	j := &syncJob{p: p}
	j.activated.Store(true)
	now := time.Now()
	justRan := cluster.JobMetadata{LastFinished: now}

	if w := j.wait(now, justRan); w != 0 {
		t.Errorf("right after activation: wait %s, want 0", w)
	}
	j.activated.Store(false)
	if w := j.wait(now, justRan); w != syncMaxSleep {
		t.Errorf("nothing open: wait %s, want a bounded sleep", w)
	}
	if w := j.wait(now, cluster.JobMetadata{LastFinished: now.Add(-55 * time.Second)}); w != 5*time.Second {
		t.Errorf("55 s after a run: wait %s, want the rest of the interval", w)
	}
	if w := j.wait(now, cluster.JobMetadata{LastFinished: now.Add(-time.Minute)}); w != 0 {
		t.Errorf("an interval after a run: wait %s, want 0", w)
	}

	due := now.Add(10 * time.Second)
	ch := account.Change{ID: "c1", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &due, CreatedAt: now, UpdatedAt: now}
	if err := p.store.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	if w := j.wait(now, justRan); w != 10*time.Second {
		t.Errorf("a retry due in 10s: wait %s", w)
	}
	overdue := now.Add(-5 * time.Second)
	ch.NextAttemptAt = &overdue
	if err := p.store.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	if w := j.wait(now, justRan); w != time.Second {
		t.Errorf("a retry overdue right after a run: wait %s, want the 1s gap", w)
	}
	if w := j.wait(now, cluster.JobMetadata{LastFinished: now.Add(-2 * time.Second)}); w != 0 {
		t.Errorf("a retry overdue 2s after a run: wait %s, want 0", w)
	}
}

func TestRetrySettings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"", 24 * time.Hour}, {"6", 6 * time.Hour}, {"0", 24 * time.Hour}, {"169", 24 * time.Hour}, {"x", 24 * time.Hour}} {
		if got := (&configuration{RetryForHours: tc.in}).retryFor(); got != tc.want {
			t.Errorf("RetryForHours %q: %s, want %s", tc.in, got, tc.want)
		}
	}
	if p := (&configuration{RetryForHours: "0"}).problems(); len(p) != 1 {
		t.Errorf("problems %v, want one about the retry time", p)
	}
	if got := (&configuration{}).jobInterval(); got != time.Minute {
		t.Errorf("default interval %s", got)
	}
	if got := (&configuration{JobIntervalSeconds: "2", RetryFirstSeconds: "1"}); got.jobInterval() != 2*time.Second || got.retryFirst() != time.Second {
		t.Errorf("test timings: %s %s", got.jobInterval(), got.retryFirst())
	}
}
