package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// Bounds of the scan and of the check at sign-in.
const (
	reconcileRunTimeout = 10 * time.Minute // one scan; pairs not reached wait for the next
	// reconcileMaxSleep bounds one sleep of the scheduler, so that a shorter
	// interval setting is seen soon. Waking costs the cluster mutex and one
	// KV read.
	reconcileMaxSleep = 10 * time.Second
	// signInForwardTimeout bounds the forward of one user's change at
	// sign-in (the flow itself has account.DefaultFlowTimeout).
	signInForwardTimeout = time.Minute
)

// reconcileJob runs account.Service.Reconcile, the scan that compares both
// systems and forwards every change made in Mattermost elsewhere, on one
// node at a time across a cluster (pluginapi/cluster), every
// ReconcileIntervalMinutes.
type reconcileJob struct {
	p   *Plugin
	job *cluster.Job

	// ctx ends the scan in progress when the plugin stops: a forward cut
	// short is settled by the background job like any interrupted change.
	ctx    context.Context
	cancel context.CancelFunc
}

func (p *Plugin) scheduleReconcile() (io.Closer, error) {
	j := &reconcileJob{p: p}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	job, err := cluster.Schedule(p.API, store.ReconcileJobKey, j.wait, j.run)
	if err != nil {
		j.cancel()
		return nil, err
	}
	j.job = job
	return j, nil
}

// wait is the time until the next scan (0: scan now). The first scan ever
// runs at once; after a restart the interval counts from the last scan
// anywhere in the cluster.
func (j *reconcileJob) wait(now time.Time, md cluster.JobMetadata) time.Duration {
	wait := j.p.getConfiguration().reconcileInterval() - now.Sub(md.LastFinished)
	return min(max(wait, 0), reconcileMaxSleep)
}

// run is one scan. Its last log line tells how long it took and the
// Mattermost adapter's calls meanwhile (mattermostCalls: this node's, the
// scan's own unless other work ran at the same time), user_pages being the
// pages of users it read; its KV reads (one link per user) are not counted.
func (j *reconcileJob) run() {
	defer j.p.metrics.timeJob(jobScan)()
	started := time.Now()
	before := mattermostCalls.tally()
	ctx, cancel := context.WithTimeout(j.ctx, reconcileRunTimeout)
	defer cancel()
	rep, f := j.p.service().Reconcile(ctx)
	took := time.Since(started).Round(time.Millisecond).String()
	calls := mattermostCalls.tally().since(before)
	switch {
	case f != nil:
		j.p.client.Log.Error("Account Sync: the scan could not compare Mattermost and Zulip; the next scan tries again", "code", string(f.Code), "error", f.Error(), "took", took)
	case ctx.Err() != nil:
		j.p.client.Log.Warn("Account Sync: the scan stopped before its end; the next scan goes on", "pairs_apart", rep.Rows, "forwarded", rep.Forwarded, "offered", rep.Offered, "agreed", rep.Agreed, "took", took)
	default:
		j.p.client.Log.Info("Account Sync: scan finished", "pairs_apart", rep.Rows, "forwarded", rep.Forwarded, "offered", rep.Offered, "agreed", rep.Agreed,
			"took", took, "mattermost_calls", calls.total(), "user_pages", calls.UserPages)
	}
}

// Close ends the scan in progress and stops the schedule on this node.
func (j *reconcileJob) Close() error {
	j.cancel()
	return j.job.Close()
}

// forwardOne forwards the user's email to the linked Zulip account if it was
// changed in Mattermost elsewhere (UserHasLoggedIn). Everything else is
// left to the scan.
func (p *Plugin) forwardOne(userID string) {
	if !p.movedFromAgreed(userID) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), signInForwardTimeout)
	defer cancel()
	if res, ok := p.service().Forward(ctx, userID); ok {
		p.client.Log.Info("Account Sync: forwarded an email changed in Mattermost elsewhere, at sign-in", "user_id", userID, "change_id", res.Change.ID, "state", string(res.Change.State))
	}
}

// movedFromAgreed is a look, without the user's lock, whether their
// Mattermost email differs from the address of their link both systems
// last agreed on. A forward takes the lock, which would turn away an
// /account email right after signing in: only a user whose email did move
// is worth it. Forward itself checks again under the lock.
func (p *Plugin) movedFromAgreed(userID string) bool {
	l, linked, err := p.store.Link(userID)
	if err != nil || !linked || l.AgreedEmail == "" {
		return false
	}
	u, err := p.client.User.Get(userID)
	return err == nil && !strings.EqualFold(u.Email, l.AgreedEmail)
}
