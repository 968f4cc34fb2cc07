package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// The plugin's calls to the server are read from its metric
// account_sync_server_calls_total (server/metrics_calls.go) through the
// server's metrics listener, turned on for the bench.
const serverCallsMetric = "account_sync_server_calls_total"

// metricsURL turns the server's metrics listener on at a free loopback
// port and returns the plugin's metrics address there.
func metricsURL(ctx context.Context, st *stack.Stack) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	if err := st.Bed.UpdateConfig(ctx, func(c *model.Config) {
		c.MetricsSettings.Enable = model.NewPointer(true)
		c.MetricsSettings.ListenAddress = model.NewPointer(addr)
	}); err != nil {
		return "", fmt.Errorf("turning the metrics listener on: %w", err)
	}
	url := "http://" + addr + "/plugins/" + stack.PluginID + "/metrics"
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := serverCalls(ctx, url); err == nil {
			return url, nil
		} else if time.Now().After(deadline) {
			return "", fmt.Errorf("reading the plugin's metrics: %w", err)
		}
		sleepCtx(ctx, 500*time.Millisecond)
	}
}

// calls is the plugin's calls to the server by kind (user_read, kv_get...).
type calls map[string]float64

// serverCalls reads the counts.
func serverCalls(ctx context.Context, url string) (calls, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out := calls{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := serverCallsMetric + `{kind="`
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		kind, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Text(), err)
		}
		out[kind] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s in the plugin's metrics", serverCallsMetric)
	}
	return out, nil
}

// minus is c less before, kind by kind.
func (c calls) minus(before calls) calls {
	out := calls{}
	for k, v := range c {
		out[k] = v - before[k]
	}
	return out
}

// split is the KV calls and the others (the user, session and
// configuration APIs, log lines).
func (c calls) split() (mattermost, kv float64) {
	for k, v := range c {
		if strings.HasPrefix(k, "kv_") {
			kv += v
		} else {
			mattermost += v
		}
	}
	return mattermost, kv
}

// per lists the kinds with a count, per change of n.
func (c calls) per(n int) string {
	var kinds []string
	for k, v := range c {
		if v != 0 {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, c[k]/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// callsPerChange makes n plugin changes one after another (linked users,
// Zulip 0 ms) and reads the plugin's calls to the server around them,
// waiting callsSettle after the last for the work they cause in the
// background (the event follower reads the link of each account Zulip
// reports changed) to be done. The background's own rate (the jobs'
// wake-ups), read over callsIdle afterwards, is taken off for as long.
func (r *run) callsPerChange(ctx context.Context, plugin op, n int) error {
	url, err := metricsURL(ctx, r.st)
	if err != nil {
		return err
	}
	before, err := serverCalls(ctx, url)
	if err != nil {
		return err
	}
	started := time.Now()
	for i := range n {
		if err := r.change(ctx, plugin, r.pUsers[i%len(r.pUsers)], "c"); err != nil {
			return err
		}
	}
	took := time.Since(started)
	sleepCtx(ctx, callsSettle)
	during, err := serverCalls(ctx, url)
	if err != nil {
		return err
	}
	window := time.Since(started)
	idleFrom := time.Now()
	sleepCtx(ctx, callsIdle)
	idle, err := serverCalls(ctx, url)
	if err != nil {
		return err
	}
	bg := idle.minus(during).scaled(float64(window) / float64(time.Since(idleFrom)))
	net := during.minus(before).minus(bg)
	mm, kv := net.split()
	bgMM, bgKV := bg.split()
	r.logf("bench: calls per change (%d changes in %s, then %s for the background they cause; the background's own over as long: %.0f + %.0f KV): %s",
		n, took.Round(time.Millisecond), callsSettle, bgMM, bgKV, net.per(n))
	r.add(atMost("calls to the Mattermost server per change (APIs, KV store, log lines), Zulip 0 ms", (mm+kv)/float64(n), "", 12),
		info("of which user, session, config APIs and log lines, Zulip 0 ms", mm/float64(n), ""),
		info("of which KV store calls, Zulip 0 ms", kv/float64(n), ""))
	return nil
}

// callsSettle is how long the work the changes cause in the background is
// given; callsIdle, how long the background's own rate is read over.
const (
	callsSettle = 5 * time.Second
	callsIdle   = 20 * time.Second
)

// scaled is c times f, kind by kind.
func (c calls) scaled(f float64) calls {
	out := calls{}
	for k, v := range c {
		out[k] = v * f
	}
	return out
}
