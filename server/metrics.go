package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Names of the jobs in account_sync_job_run_seconds.
const (
	jobSync      = "sync"      // carries open changes on
	jobScan      = "scan"      // compares both systems (reconcile)
	jobMigration = "migration" // one batch of a domain migration
	jobRetention = "retention" // deletes old change records
)

// originAccountSync is the origin label of the changes asked for through
// Account Sync itself (AuditEvent.Origin "").
const originAccountSync = "account_sync"

// openChangesMaxAge is how long one reading of the open changes' index
// serves scrapes: however often the metrics are scraped, the store is read
// at most once in that time (32 KV reads).
const openChangesMaxAge = 10 * time.Second

// Buckets of the histograms, in seconds. A Zulip request is bounded by the
// timeout setting (at most a minute), except GET /api/v1/events, a long
// poll Zulip holds for up to about 90 s. A job run is bounded at 10 min.
var (
	zulipBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	jobBuckets   = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
)

// openStates are the states of the open changes, reported even at zero.
var openStates = []account.State{
	account.StateStarted, account.StateWaitingForZulip, account.StatePendingVerification,
	account.StateMattermostChanged, account.StateRollbackPendingVerification,
}

// metrics is Account Sync's Prometheus metrics, in a registry of its own
// (never the process-wide default one), served by ServeMetrics.
type metrics struct {
	registry *prometheus.Registry
	handler  http.Handler

	changes       *prometheus.CounterVec
	zulipRequests *prometheus.CounterVec
	zulipSeconds  *prometheus.HistogramVec
	rateLimited   prometheus.Counter
	jobSeconds    *prometheus.HistogramVec
	open          *openChangesCollector
}

// warner is where scrape errors go: the server log.
type warner interface {
	Warn(msg string, keyValuePairs ...any)
}

// newMetrics builds the registry. openChanges reads the index of open
// changes; budget is what is left of the Zulip bot's rate limit (known is
// false while Zulip sync is off or Zulip has not told yet).
func newMetrics(openChanges func() ([]account.OpenChange, error), budget func() (remaining int, known bool), log warner) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "account_sync_changes_total",
			Help: "Email changes by origin (account_sync, mattermost_elsewhere, zulip_elsewhere, migration) and outcome (the state the change reached, or refused), counted once per outcome.",
		}, []string{"origin", "outcome"}),
		zulipRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "account_sync_zulip_requests_total",
			Help: "Requests sent to Zulip (each try) by endpoint and HTTP status; status is \"error\" when no answer came.",
		}, []string{"endpoint", "status"}),
		zulipSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "account_sync_zulip_request_seconds",
			Help:    "Time of each request to Zulip, from sending to reading the answer, by endpoint; GET /api/v1/events is a long poll.",
			Buckets: zulipBuckets,
		}, []string{"endpoint"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "account_sync_zulip_rate_limited_total",
			Help: "Answers 429 (rate limit exceeded) from Zulip.",
		}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "account_sync_job_run_seconds",
			Help:    "Time of each run of the background jobs on this node: sync, scan, migration, retention.",
			Buckets: jobBuckets,
		}, []string{"job"}),
		open: newOpenChangesCollector(openChanges),
	}
	m.registry.MustRegister(m.changes, m.zulipRequests, m.zulipSeconds, m.rateLimited, m.jobSeconds,
		m.open, budgetCollector{read: budget}, serverCallsCollector{mattermost: &mattermostCalls, kv: &kvCalls})
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      promLog{log},
		ErrorHandling: promhttp.ContinueOnError, // a store that cannot be read leaves out its metric only
	})
	return m
}

// countChanges returns next counting every audit event in
// account_sync_changes_total: the flow audits each outcome of every change
// exactly once.
func (m *metrics) countChanges(next account.Auditor) account.Auditor {
	if m == nil {
		return next
	}
	return countingAuditor{next: next, changes: m.changes}
}

// countingAuditor counts the events, then hands them on.
type countingAuditor struct {
	next    account.Auditor
	changes *prometheus.CounterVec
}

func (a countingAuditor) Audit(e account.AuditEvent) {
	origin, outcome := e.Origin, e.Outcome
	if origin == "" {
		origin = originAccountSync
	}
	if outcome == "" {
		outcome = "new"
	}
	a.changes.WithLabelValues(origin, outcome).Inc()
	a.next.Audit(e)
}

// observeZulip returns cfg with its Observe set to count the requests.
func (m *metrics) observeZulip(cfg zulip.Config) zulip.Config {
	if m != nil {
		cfg.Observe = m.zulipRequest
	}
	return cfg
}

// zulipRequest is zulip.Config.Observe. The endpoint comes templated from
// the client (no ids, addresses or credentials).
func (m *metrics) zulipRequest(endpoint string, status int, took time.Duration) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.zulipRequests.WithLabelValues(endpoint, code).Inc()
	m.zulipSeconds.WithLabelValues(endpoint).Observe(took.Seconds())
	if status == http.StatusTooManyRequests {
		m.rateLimited.Inc()
	}
}

// timeJob starts timing one run of job; the returned func ends it:
// defer p.metrics.timeJob(jobSync)().
func (m *metrics) timeJob(job string) func() {
	if m == nil {
		return func() {}
	}
	started := time.Now()
	return func() { m.jobSeconds.WithLabelValues(job).Observe(time.Since(started).Seconds()) }
}

var (
	openChangesDesc = prometheus.NewDesc("account_sync_open_changes",
		"Changes still being carried on, by state, from the index of open changes (read at most every 10 s).", []string{"state"}, nil)
	budgetDesc = prometheus.NewDesc("account_sync_zulip_budget_remaining",
		"Requests the Zulip bot may still send before its rate limit renews, as this node knows it; absent while unknown (Zulip sync off, no answer yet, or the limit renewed since).", nil, nil)
)

// openChangesCollector reports account_sync_open_changes at scrape time,
// from a reading of the index at most openChangesMaxAge old.
type openChangesCollector struct {
	read func() ([]account.OpenChange, error)
	now  func() time.Time

	mu     sync.Mutex // one reading at a time; guards the fields below
	readAt time.Time
	counts map[account.State]int
	err    error
}

func newOpenChangesCollector(read func() ([]account.OpenChange, error)) *openChangesCollector {
	return &openChangesCollector{read: read, now: time.Now}
}

func (c *openChangesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openChangesDesc }

func (c *openChangesCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.reading()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(openChangesDesc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(openChangesDesc, prometheus.GaugeValue, float64(n), string(state))
	}
}

// reading returns the counts by state, read again when the last reading is
// older than openChangesMaxAge.
func (c *openChangesCollector) reading() (map[account.State]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.readAt.IsZero() && now.Sub(c.readAt) < openChangesMaxAge {
		return c.counts, c.err
	}
	counts := make(map[account.State]int, len(openStates))
	for _, s := range openStates {
		counts[s] = 0
	}
	open, err := c.read()
	for _, oc := range open {
		counts[oc.State]++
	}
	if err != nil {
		counts, err = nil, fmt.Errorf("reading the open changes: %w", err)
	}
	c.readAt, c.counts, c.err = now, counts, err
	return counts, err
}

// budgetCollector reports account_sync_zulip_budget_remaining at scrape
// time, only while the budget is known.
type budgetCollector struct {
	read func() (remaining int, known bool)
}

func (c budgetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- budgetDesc }

func (c budgetCollector) Collect(ch chan<- prometheus.Metric) {
	if remaining, known := c.read(); known {
		ch <- prometheus.MustNewConstMetric(budgetDesc, prometheus.GaugeValue, float64(remaining))
	}
}

// zulipBudget is the budget of the current Zulip client's pacer.
func (p *Plugin) zulipBudget() (remaining int, known bool) {
	client, _ := p.getZulip()
	if client == nil {
		return 0, false
	}
	return client.Budget()
}

// promLog passes promhttp's errors to the server log.
type promLog struct{ log warner }

func (l promLog) Println(v ...any) {
	l.log.Warn("Account Sync: serving the metrics: " + fmt.Sprint(v...))
}
