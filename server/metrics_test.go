package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

const metricsTestKey = "metrics-s3cr3t-key-0123456789"

// allowLogs lets the mock API take log lines of any length at every level,
// and the rate-limit news passed to other nodes.
func allowLogs(p *Plugin) {
	api := p.API.(interface {
		On(string, ...any) *mock.Call
	})
	for _, level := range []string{"LogDebug", "LogInfo", "LogWarn", "LogError"} {
		for n := 1; n <= 25; n += 2 {
			args := make([]any, n)
			for i := range args {
				args[i] = mock.Anything
			}
			api.On(level, args...).Maybe()
		}
	}
	api.On("PublishPluginClusterEvent", mock.Anything, mock.Anything).Return(nil).Maybe()
}

// scrape calls the ServeMetrics hook as the server's metrics route does
// and returns the body.
func scrape(t *testing.T, p *Plugin) string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeMetrics(&plugin.Context{}, rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("ServeMetrics: HTTP %d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// sample returns the value of the sample written exactly as series
// (name{labels} in the text format, labels sorted by name).
func sample(t *testing.T, body, series string) (float64, bool) {
	t.Helper()
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v, true
		}
	}
	return 0, false
}

func wantSample(t *testing.T, body, series string, want float64) {
	t.Helper()
	got, ok := sample(t, body, series)
	if !ok {
		t.Errorf("no %s in:\n%s", series, body)
	} else if got != want {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

// A fake Zulip: PATCH /users/{id} takes the change and tells the budget,
// GET /users/me answers 429.
func newMetricsZulip(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPatch && r.URL.Path == "/api/v1/users/7":
			w.Header().Set("X-RateLimit-Limit", "200")
			w.Header().Set("X-RateLimit-Remaining", "41")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
			_, _ = io.WriteString(w, `{"result":"success","msg":""}`)
		case r.URL.Path == "/api/v1/users/me":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":30}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The hook serves every family from the plugin's own registry, with the
// labels the README documents, after a few events.
func TestServeMetrics(t *testing.T) {
	zsrv := newMetricsZulip(t)
	p, _ := newTestPlugin(t, configuration{ZulipSyncEnabled: true, ZulipURL: zsrv.URL, ZulipBotEmail: "bot@zulip.example.com", ZulipAPIKey: metricsTestKey, RecordRetentionDays: "10"})
	allowLogs(p)
	p.store = store.New(&pluginapi.MemoryStore{})
	p.metrics = newMetrics(p.store.OpenChanges, p.zulipBudget, &p.client.Log)
	p.auditor = newAuditor(&p.client.Log, "9.9.0", nil)
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}

	body := scrape(t, p)
	if _, ok := sample(t, body, "account_sync_zulip_budget_remaining"); ok {
		t.Error("a budget before Zulip told it")
	}
	wantSample(t, body, `account_sync_open_changes{state="waiting_for_zulip"}`, 0)

	// Zulip: one change, one 429.
	zc, _ := p.getZulip()
	ctx := context.Background()
	if err := zc.ChangeEmailByID(ctx, 7, "new@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Me(ctx); err == nil {
		t.Fatal("want the 429")
	}
	// Outcomes, through the auditor the flow is given.
	audit := p.auditorOrNone()
	audit.Audit(account.AuditEvent{ChangeID: "c1", Outcome: string(account.StateDone), Success: true})
	audit.Audit(account.AuditEvent{Outcome: string(account.StateRefused), Code: "not_allowed"})
	audit.Audit(account.AuditEvent{ChangeID: "c2", Outcome: string(account.StateMattermostChanged), Origin: account.OriginMattermostElsewhere, Success: true})
	audit.Audit(account.AuditEvent{ChangeID: "c1b", Outcome: string(account.StateDone), Success: true})
	// An open change, and a run of the retention job.
	now := time.Now()
	if err := p.store.SaveChange(ctx, &account.Change{ID: "c2", UserID: "u2", State: account.StateMattermostChanged, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p.metrics.open.readAt = time.Time{} // the reading above is still fresh: read again
	p.pruneRecords()

	body = scrape(t, p)
	wantSample(t, body, `account_sync_changes_total{origin="account_sync",outcome="done"}`, 2)
	wantSample(t, body, `account_sync_changes_total{origin="account_sync",outcome="refused"}`, 1)
	wantSample(t, body, `account_sync_changes_total{origin="mattermost_elsewhere",outcome="mattermost_changed"}`, 1)
	wantSample(t, body, `account_sync_open_changes{state="mattermost_changed"}`, 1)
	wantSample(t, body, `account_sync_open_changes{state="started"}`, 0)
	wantSample(t, body, `account_sync_zulip_requests_total{endpoint="PATCH /api/v1/users/{id}",status="200"}`, 1)
	wantSample(t, body, `account_sync_zulip_requests_total{endpoint="GET /api/v1/users/me",status="429"}`, 1)
	wantSample(t, body, `account_sync_zulip_request_seconds_count{endpoint="PATCH /api/v1/users/{id}"}`, 1)
	wantSample(t, body, `account_sync_zulip_request_seconds_bucket{endpoint="GET /api/v1/users/me",le="+Inf"}`, 1)
	wantSample(t, body, `account_sync_zulip_rate_limited_total`, 1)
	wantSample(t, body, `account_sync_job_run_seconds_count{job="retention"}`, 1)
	wantSample(t, body, "account_sync_zulip_budget_remaining", 0) // the 429 emptied it until its Retry-After
	for _, secret := range []string{metricsTestKey, "new@example.org", "users/7"} {
		if strings.Contains(body, secret) {
			t.Errorf("the metrics show %q", secret)
		}
	}
}

// The budget is what the pacer knows: Zulip's X-RateLimit-Remaining.
func TestBudgetMetric(t *testing.T) {
	zsrv := newMetricsZulip(t)
	p, _ := newTestPlugin(t, configuration{ZulipSyncEnabled: true, ZulipURL: zsrv.URL, ZulipBotEmail: "bot@zulip.example.com", ZulipAPIKey: metricsTestKey})
	p.store = store.New(&pluginapi.MemoryStore{})
	p.metrics = newMetrics(p.store.OpenChanges, p.zulipBudget, &p.client.Log)
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	zc, _ := p.getZulip()
	if err := zc.ChangeEmailByID(context.Background(), 7, "new@example.org"); err != nil {
		t.Fatal(err)
	}
	wantSample(t, scrape(t, p), "account_sync_zulip_budget_remaining", 41)
}

// Every job names its runs.
func TestJobRunMetrics(t *testing.T) {
	m := newMetrics(func() ([]account.OpenChange, error) { return nil, nil }, func() (int, bool) { return 0, false }, warnFunc(func(string, ...any) {}))
	for _, job := range []string{jobSync, jobScan, jobMigration, jobRetention} {
		m.timeJob(job)()
	}
	p := &Plugin{metrics: m}
	body := scrape(t, p)
	for _, job := range []string{"sync", "scan", "migration", "retention"} {
		wantSample(t, body, `account_sync_job_run_seconds_count{job="`+job+`"}`, 1)
	}
	if _, ok := sample(t, body, "account_sync_zulip_budget_remaining"); ok {
		t.Error("a budget while it is unknown")
	}
}

// The open changes are read at most once in openChangesMaxAge however
// often the metrics are scraped; an index that cannot be read leaves out
// that family only, and says so in the log.
func TestOpenChangesMetric(t *testing.T) {
	reads := 0
	var fail error
	read := func() ([]account.OpenChange, error) {
		reads++
		return []account.OpenChange{{ID: "a", State: account.StateWaitingForZulip}, {ID: "b", State: account.StateWaitingForZulip}}, fail
	}
	var warned []string
	m := newMetrics(read, func() (int, bool) { return 0, false }, warnFunc(func(msg string, _ ...any) { warned = append(warned, msg) }))
	clock := time.Now()
	m.open.now = func() time.Time { return clock }
	p := &Plugin{metrics: m}

	body := scrape(t, p)
	_ = scrape(t, p)
	wantSample(t, body, `account_sync_open_changes{state="waiting_for_zulip"}`, 2)
	wantSample(t, body, `account_sync_open_changes{state="pending_verification"}`, 0)
	if reads != 1 {
		t.Errorf("%d readings for two scrapes at once, want 1", reads)
	}

	m.changes.WithLabelValues("account_sync", "done").Inc()
	fail = errors.New("kv down")
	clock = clock.Add(openChangesMaxAge)
	body = scrape(t, p)
	if reads != 2 {
		t.Errorf("%d readings once the last is old, want 2", reads)
	}
	if strings.Contains(body, "account_sync_open_changes{") {
		t.Errorf("open changes shown though the index could not be read:\n%s", body)
	}
	wantSample(t, body, `account_sync_changes_total{origin="account_sync",outcome="done"}`, 1)
	if len(warned) == 0 || !strings.Contains(warned[0], "kv down") {
		t.Errorf("logged %q, want the reading's error", warned)
	}
}

// Before activation the hook answers 503, and the wiring counts nothing.
func TestServeMetricsBeforeActivation(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Plugin{}).ServeMetrics(&plugin.Context{}, rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("HTTP %d, want 503", rec.Code)
	}
	var m *metrics
	m.timeJob(jobSync)()
	if a := m.countChanges(noAuditor{}); a != (noAuditor{}) {
		t.Errorf("nil metrics wrap the auditor: %T", a)
	}
}

type warnFunc func(msg string, kv ...any)

func (f warnFunc) Warn(msg string, kv ...any) { f(msg, kv...) }
