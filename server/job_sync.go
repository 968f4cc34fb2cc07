package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// Bounds of the job that carries open changes on.
const (
	syncRunTimeout = 10 * time.Minute // one run; changes not reached wait for the next
	syncMinGap     = time.Second      // between two runs, however many retries are due
	// syncMaxSleep bounds one sleep of the scheduler, so that a change saved
	// with an earlier retry, or a new interval setting, is seen soon. Waking
	// costs a few KV reads.
	syncMaxSleep = 10 * time.Second
)

// syncJob runs account.Service.RunDue on one node at a time across a
// cluster (pluginapi/cluster): every interval (a minute by default), sooner
// when a retry is due, and once right after activation, which settles
// changes a stopped plugin left in flight.
type syncJob struct {
	p         *Plugin
	activated atomic.Bool // the first run after activation is due at once
}

func (p *Plugin) scheduleSync() (io.Closer, error) {
	j := &syncJob{p: p}
	j.activated.Store(true)
	return cluster.Schedule(p.API, store.SyncJobKey, j.wait, j.run)
}

// wait is the time until the next run (0: run now).
func (j *syncJob) wait(now time.Time, md cluster.JobMetadata) time.Duration {
	if j.activated.Load() {
		return 0
	}
	since := now.Sub(md.LastFinished)
	wait := j.p.getConfiguration().jobInterval() - since
	if due, ok := j.p.service().NextDue(); ok {
		wait = min(wait, max(due.Sub(now), syncMinGap-since))
	}
	return min(max(wait, 0), syncMaxSleep)
}

func (j *syncJob) run() {
	defer j.p.metrics.timeJob(jobSync)()
	j.activated.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), syncRunTimeout)
	defer cancel()
	rep, err := j.p.service().RunDue(ctx)
	if err != nil {
		j.p.client.Log.Error("Account Sync: the background job could not read the open changes; the next run tries again", "error", err.Error())
		return
	}
	if rep.Advanced > 0 || rep.Busy > 0 {
		j.p.client.Log.Info("Account Sync: background job run", "open", rep.Open, "advanced", rep.Advanced, "busy", rep.Busy)
	}
}
