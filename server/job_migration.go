package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// Pace of the job that carries a domain migration on: a batch every
// migrationBusyGap while one runs (a batch takes at most a few seconds and
// Zulip's pacer spaces its requests), a look every migrationIdleGap
// otherwise (one KV read), longer while Zulip cannot be reached.
const (
	migrationBusyGap  = time.Second
	migrationIdleGap  = 5 * time.Second
	migrationZulipGap = 30 * time.Second
	migrationRunLimit = 2 * time.Minute
)

// migrationJob runs account.Service.RunMigration on one node at a time
// across a cluster (pluginapi/cluster); a migration goes on after a
// restart, here or on another node, where it stopped.
type migrationJob struct {
	p    *Plugin
	next atomic.Int64 // the gap before the next run, from the last one
	ctx  context.Context
	stop context.CancelFunc
	job  *cluster.Job
}

func (p *Plugin) scheduleMigration() (io.Closer, error) {
	j := &migrationJob{p: p}
	j.next.Store(int64(migrationBusyGap)) // a running migration goes on at once after activation
	j.ctx, j.stop = context.WithCancel(context.Background())
	job, err := cluster.Schedule(p.API, store.MigrationJobKey, j.wait, j.run)
	if err != nil {
		j.stop()
		return nil, err
	}
	j.job = job
	return j, nil
}

func (j *migrationJob) wait(now time.Time, md cluster.JobMetadata) time.Duration {
	return max(time.Duration(j.next.Load())-now.Sub(md.LastFinished), 0)
}

func (j *migrationJob) run() {
	defer j.p.metrics.timeJob(jobMigration)()
	ctx, cancel := context.WithTimeout(j.ctx, migrationRunLimit)
	defer cancel()
	step, f := j.p.service().RunMigration(ctx)
	switch {
	case f != nil:
		j.p.client.Log.Error("Account Sync: a domain migration could not go on; the next run tries again", "migration_id", step.ID, "code", string(f.Code), "error", f.Error())
		j.next.Store(int64(migrationZulipGap))
	case step.ZulipOut:
		j.next.Store(int64(migrationZulipGap))
	case step.Changed+step.Skipped+step.Failed > 0:
		j.next.Store(int64(migrationBusyGap))
	default:
		j.next.Store(int64(migrationIdleGap))
	}
}

// Close ends the batch in progress and stops the schedule on this node.
func (j *migrationJob) Close() error {
	j.stop()
	return j.job.Close()
}
