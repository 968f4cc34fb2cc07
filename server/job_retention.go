package main

import (
	"io"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// retentionInterval is how often old change records are deleted.
const retentionInterval = 24 * time.Hour

// scheduleRetention starts the daily job that deletes the records of
// changes that ended longer ago than the retention setting; open changes
// are kept until they end. pluginapi/cluster runs it on one node at a time
// across a cluster.
func (p *Plugin) scheduleRetention() (io.Closer, error) {
	return cluster.Schedule(p.API, store.RetentionJobKey, cluster.MakeWaitForRoundedInterval(retentionInterval), p.pruneRecords)
}

func (p *Plugin) pruneRecords() {
	defer p.metrics.timeJob(jobRetention)()
	retention := p.getConfiguration().retention()
	res, err := p.store.PruneChanges(retention)
	if err != nil {
		p.client.Log.Error("Account Sync: deleting old change records failed; the next run tries again", "error", err.Error(), "deleted", res.Deleted)
		return
	}
	p.client.Log.Info("Account Sync: deleted old change records", "deleted", res.Deleted, "kept_open", res.Open, "retention_days", int(retention.Hours()/24))
}
