package main

import "github.com/prometheus/client_golang/prometheus"

var serverCallsDesc = prometheus.NewDesc("account_sync_server_calls_total",
	"Calls of this node's plugin to the Mattermost server since the plugin started, by kind: the user, session and configuration APIs (user_read, user_page, user_update, permission, session, config), the flow's and the audit's log lines (log) and audit records (audit) and the KV store (kv_get, kv_set, kv_delete, kv_list, kv_atomic). Divided by account_sync_changes_total it is what a change costs the server.",
	[]string{"kind"}, nil)

// serverCallsCollector reports mattermostCalls and kvCalls at scrape time.
type serverCallsCollector struct {
	mattermost *callCounter
	kv         *kvCounter
}

func (c serverCallsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- serverCallsDesc }

func (c serverCallsCollector) Collect(ch chan<- prometheus.Metric) {
	m, k := c.mattermost.tally(), c.kv.tally()
	for _, v := range []struct {
		kind string
		n    int64
	}{
		{"user_read", m.UserReads}, {"user_page", m.UserPages}, {"user_update", m.UserUpdates},
		{"permission", m.Permissions}, {"session", m.Sessions}, {"config", m.Config}, {"log", m.Logs}, {"audit", m.Audits},
		{"kv_get", k.Gets}, {"kv_set", k.Sets}, {"kv_delete", k.Deletes}, {"kv_list", k.Lists}, {"kv_atomic", k.Atomics},
	} {
		ch <- prometheus.MustNewConstMetric(serverCallsDesc, prometheus.CounterValue, float64(v.n), v.kind)
	}
}
