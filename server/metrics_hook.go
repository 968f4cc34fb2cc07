package main

import (
	"net/http"

	"github.com/mattermost/mattermost/server/public/plugin"
)

// ServeMetrics serves Account Sync's Prometheus metrics (server 9.2+): the
// server hands it /plugins/account-sync/metrics on its metrics listener
// (MetricsSettings.ListenAddress, port 8067 by default) while
// MetricsSettings.Enable is on. Each node serves its own.
func (p *Plugin) ServeMetrics(_ *plugin.Context, w http.ResponseWriter, r *http.Request) {
	if p.metrics == nil {
		http.Error(w, "Account Sync is not active", http.StatusServiceUnavailable)
		return
	}
	p.metrics.handler.ServeHTTP(w, r)
}
