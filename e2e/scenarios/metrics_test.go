package scenarios

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// The plugin's Prometheus metrics, read as a scraper does: through the
// server's metrics listener (MetricsSettings) at /plugins/<id>/metrics,
// which hands the request to the plugin's ServeMetrics hook. One email
// change shows as an outcome and as a Zulip PATCH; the API key, the
// addresses and the ids never show.
func TestMetrics(t *testing.T) {
	addr := freeLoopbackAddr(t)
	var wasEnabled bool
	var wasAddr string
	withServerConfig(t,
		func(c *model.Config) {
			wasEnabled, wasAddr = *c.MetricsSettings.Enable, *c.MetricsSettings.ListenAddress
			c.MetricsSettings.Enable = model.NewPointer(true)
			c.MetricsSettings.ListenAddress = model.NewPointer(addr)
		},
		func(c *model.Config) {
			c.MetricsSettings.Enable = model.NewPointer(wasEnabled)
			c.MetricsSettings.ListenAddress = model.NewPointer(wasAddr)
		})
	url := "http://" + addr + "/plugins/" + pluginID + "/metrics"

	p := newPerson(t)
	newEmail := newAddress()
	reply := run(t, p.client, "/account email "+newEmail)
	assertContains(t, reply, "Your email is now `"+newEmail+"` in Mattermost and in Zulip")

	// The sync job runs every second in the suite: wait for one run.
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		body = getMetrics(t, url)
		if _, ok := metricValue(body, `account_sync_job_run_seconds_count{job="sync"}`); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}

	atLeast := func(series string, want float64) {
		t.Helper()
		got, ok := metricValue(body, series)
		if !ok {
			t.Errorf("no %s in the metrics:\n%s", series, body)
		} else if got < want {
			t.Errorf("%s = %v, want at least %v", series, got, want)
		}
	}
	atLeast(`account_sync_changes_total{origin="account_sync",outcome="done"}`, 1)
	atLeast(`account_sync_zulip_requests_total{endpoint="PATCH /api/v1/users/{id}",status="200"}`, 1)
	atLeast(`account_sync_zulip_request_seconds_count{endpoint="PATCH /api/v1/users/{id}"}`, 1)
	atLeast(`account_sync_job_run_seconds_count{job="sync"}`, 1)
	for _, family := range []string{"account_sync_open_changes", "account_sync_zulip_rate_limited_total"} {
		if !strings.Contains(body, "# TYPE "+family+" ") {
			t.Errorf("no %s family in the metrics", family)
		}
	}
	for what, secret := range map[string]string{
		"the Zulip API key": w.BotKey, "the old address": p.email, "the new address": newEmail,
		"the user's id": p.user.Id, "the Zulip account's id": "/users/" + strconv.Itoa(p.zulipID),
	} {
		if strings.Contains(body, secret) {
			t.Errorf("the metrics show %s (%s)", what, secret)
		}
	}
}

// freeLoopbackAddr returns 127.0.0.1:<a port nobody listens on now>.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// getMetrics reads the plugin's metrics, waiting a little for the metrics
// listener the configuration change starts.
func getMetrics(t *testing.T, url string) string {
	t.Helper()
	ctx := ctxFor(t)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil {
				t.Fatalf("reading %s: %v", url, rerr)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: HTTP %d %s", url, resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("GET %s: Content-Type %q, want Prometheus' text format", url, ct)
			}
			return string(b)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: %v", url, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// metricValue finds the sample written exactly as series (labels sorted
// by name, as the Go client writes them).
func metricValue(body, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
