package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// What a change costs the server shows in account_sync_server_calls_total:
// every KV call the store makes, by kind, and the adapter's calls.
func TestServerCallsMetric(t *testing.T) {
	var kc kvCounter
	var mc callCounter
	kv := countedKV{KV: &pluginapi.MemoryStore{}, c: &kc}
	for range 2 {
		if _, err := kv.Set("k", "v"); err != nil {
			t.Fatal(err)
		}
	}
	var v string
	for range 3 {
		if err := kv.Get("k", &v); err != nil || v != "v" {
			t.Fatal(v, err)
		}
	}
	if _, err := kv.ListKeys(0, 10); err != nil {
		t.Fatal(err)
	}
	if err := kv.SetAtomicWithRetries("a", func([]byte) (any, error) { return "x", nil }); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := kv.Get("k", &v); err != nil {
		t.Fatal(err)
	}
	mc.userReads.Add(3)
	mc.userUpdates.Add(1)
	mc.permissions.Add(2)
	mc.sessions.Add(5)
	countedLog{Logger: nopLog{}, c: &mc}.Warn("w")
	countedLog{Logger: nopLog{}, c: &mc}.Info("i")
	countedLog{Logger: nopLog{}, c: &mc}.Error("e")

	reg := prometheus.NewRegistry()
	reg.MustRegister(serverCallsCollector{mattermost: &mc, kv: &kc})
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	for series, want := range map[string]float64{
		`account_sync_server_calls_total{kind="kv_get"}`:      4,
		`account_sync_server_calls_total{kind="kv_set"}`:      2,
		`account_sync_server_calls_total{kind="kv_list"}`:     1,
		`account_sync_server_calls_total{kind="kv_delete"}`:   1,
		`account_sync_server_calls_total{kind="kv_atomic"}`:   1,
		`account_sync_server_calls_total{kind="user_read"}`:   3,
		`account_sync_server_calls_total{kind="user_update"}`: 1,
		`account_sync_server_calls_total{kind="permission"}`:  2,
		`account_sync_server_calls_total{kind="session"}`:     5,
		`account_sync_server_calls_total{kind="user_page"}`:   0,
		`account_sync_server_calls_total{kind="config"}`:      0,
		`account_sync_server_calls_total{kind="log"}`:         3,
	} {
		wantSample(t, body, series, want)
	}
}

type nopLog struct{}

func (nopLog) Info(string, ...any)  {}
func (nopLog) Warn(string, ...any)  {}
func (nopLog) Error(string, ...any) {}
