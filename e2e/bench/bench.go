// Package bench measures Account Sync on the end-to-end test bed (a real
// Mattermost on PostgreSQL, the real plugin bundle, the Zulip emulator)
// against the server's own path: an admin's PATCH of the email plus one
// Zulip PATCH. It is run by `make bench`, never by `make test`; targets
// are read from its table, never asserted by a timed test.
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench/chart"
	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Config is what a run measures and where it writes.
type Config struct {
	Out        string // directory for CSV and the chart
	Bundle     string // the all-platform bundle, for its sizes ("" skips)
	Changes    int    // timed changes per path and Zulip latency (>= 500)
	Latencies  []time.Duration
	Crowds     []int // users changing at once
	RateLimit  int   // the emulator's budget in the burst: requests per RateWindow
	RateWindow time.Duration
	ScanSizes  []int    // linked users at which the scan is measured
	ScanRuns   int      // scans measured per size
	Offers     int      // changes in Zulip's settings timed until the offer, per size
	Only       []string // the phases to run (Phases); empty: all
	Log        io.Writer

	// MigrationUsers are migrated to another domain at Zulip's default
	// limit; MigrationPlanUsers are then planned only (0 skips either).
	MigrationUsers     int
	MigrationPlanUsers int
}

// Phases are the bench's phases, in the order they run. latency, crowds
// and rate-limit need users, which runs with them.
var Phases = []string{"footprint", "users", "latency", "crowds", "rate-limit", "scan", "migration"}

// run is one bench run's state.
type run struct {
	cfg      Config
	st       *stack.Stack
	latency  atomic.Int64 // the emulator's added latency, ns
	pUsers   []*user      // changed with /account email
	bUsers   []*user      // changed by the admin (baseline)
	samples  []sample
	metrics  []metric
	panels   []chart.Panel
	table    strings.Builder
	profile  strings.Builder
	scans    strings.Builder // the scan phase's table (scan.go)
	offers   strings.Builder // its offers' table
	loadRSS  *rssSampler
	requests int // the plugin's Zulip requests in the latency phases
	changes  int // the plugin's changes in the latency phases

	// The migration phase's tables (migration.go): the run, the plan.
	migrations, migrationPlans strings.Builder
}

// Run measures and writes the results; it returns an error when the run
// itself failed (not when a target is missed).
func Run(ctx context.Context, cfg Config) error {
	r := &run{cfg: cfg}
	only, err := selected(cfg.Only)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Out, 0o750); err != nil {
		return err
	}
	r.logf("starting the test bed (PostgreSQL, Mattermost, the Zulip emulator)...")
	st, err := stack.StartWith(ctx, cfg.Log, stack.Options{Zulip: []zuliptest.Option{zuliptest.WithMiddleware(r.delay)}})
	if err != nil {
		return err
	}
	defer st.Stop()
	r.st = st
	if err := st.Configure(ctx, map[string]any{"MaxChangesPerUserPerDay": "0"}); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"footprint", r.footprint},
		{"users", r.users},
		{"latency", r.atProductionTimings(r.latencies)},
		{"crowds", r.atProductionTimings(r.crowds)},
		{"rate-limit", r.burst},
		{"scan", r.scan},
		{"migration", r.migration},
	}
	for _, s := range steps {
		if only != nil && !only[s.name] {
			continue
		}
		r.logf("bench: %s...", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return r.write()
}

// selected is the set of phases to run (nil: all); the phases that need
// the users phase bring it in.
func selected(only []string) (map[string]bool, error) {
	if len(only) == 0 {
		return nil, nil
	}
	set := map[string]bool{}
	for _, name := range only {
		name = strings.TrimSpace(name)
		if !slices.Contains(Phases, name) {
			return nil, fmt.Errorf("no phase %q (phases: %s)", name, strings.Join(Phases, ", "))
		}
		set[name] = true
	}
	if set["latency"] || set["crowds"] || set["rate-limit"] {
		set["users"] = true
	}
	return set, nil
}

// delay is the emulator's latency, set per phase.
func (r *run) delay(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if d := time.Duration(r.latency.Load()); d > 0 {
			time.Sleep(d)
		}
		h.ServeHTTP(w, req)
	})
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, format+"\n", args...)
}

func (r *run) add(ms ...metric) { r.metrics = append(r.metrics, ms...) }

// footprint: bundle sizes, activation time, idle RSS.
func (r *run) footprint(ctx context.Context) error {
	if r.cfg.Bundle != "" {
		exes, total, err := bundleSizes(r.cfg.Bundle)
		if err != nil {
			return fmt.Errorf("reading the bundle %s: %w", r.cfg.Bundle, err)
		}
		for _, e := range exes {
			r.add(info("executable "+e.Platform, float64(e.Bytes)/1e6, "MB"))
		}
		r.add(atMost("bundle (all platforms, compressed)", float64(total)/1e6, "MB", 60))
	}
	var times []float64
	for range 3 {
		d, err := activation(ctx, r.st)
		if err != nil {
			return err
		}
		times = append(times, float64(d)/float64(time.Millisecond))
	}
	r.add(info("activation (enable until running, median of 3)", summarise(times).P50, "ms"))
	time.Sleep(5 * time.Second) // let the first job run and the process settle
	pid, err := pluginPid(r.st)
	if err != nil {
		return err
	}
	rss, err := rssBytes(pid)
	if err != nil {
		return err
	}
	r.add(atMost("plugin RSS idle", float64(rss)/(1<<20), "MiB", 25))
	return nil
}

// users makes the users of both paths and links the plugin's ones.
func (r *run) users(ctx context.Context) error {
	n := 0
	for _, c := range r.cfg.Crowds {
		n = max(n, c)
	}
	started := time.Now()
	var err error
	if r.pUsers, err = createUsers(ctx, r.st, "p", n, true); err != nil {
		return err
	}
	if r.bUsers, err = createUsers(ctx, r.st, "b", n, false); err != nil {
		return err
	}
	if err := linkAll(ctx, r.st, n); err != nil {
		return err
	}
	r.logf("bench: %d + %d users in %s", n, n, time.Since(started).Round(time.Second))
	return nil
}

// atProductionTimings runs a measuring phase with the plugin's job at its
// production interval (once a minute, as an admin's server runs it), not
// the test bed's one second, whose reads of the open changes would load the
// server under the changes measured. The bed's timings are put back after.
func (r *run) atProductionTimings(fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		keys := []string{"JobIntervalSeconds", "RetryFirstSeconds"}
		production, bed := map[string]any{}, map[string]any{}
		for _, k := range keys {
			production[k], bed[k] = "", r.st.GoodSettings()[k]
		}
		if err := r.st.Bed.SetPluginSettings(ctx, stack.PluginID, production); err != nil {
			return fmt.Errorf("setting the production timings: %w", err)
		}
		err := fn(ctx)
		if rerr := r.st.Bed.SetPluginSettings(ctx, stack.PluginID, bed); rerr != nil && err == nil {
			err = fmt.Errorf("putting the bed's timings back: %w", rerr)
		}
		return err
	}
}

// latencies times changes one at a time, the two paths interleaved, at
// each emulator latency.
func (r *run) latencies(ctx context.Context) error {
	fmt.Fprintf(&r.table, "| path | Zulip latency | changes | p50 ms | p95 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|\n")
	plugin, base := pluginOp(r.st), baselineOp(r.st)
	for _, lat := range r.cfg.Latencies {
		r.latency.Store(int64(lat))
		phase := fmt.Sprintf("latency-%dms", lat.Milliseconds())
		// Warm up both paths (connections, caches) untimed.
		for i := range 10 {
			if err := r.change(ctx, plugin, r.pUsers[i%len(r.pUsers)], "w"); err != nil {
				return err
			}
			if err := r.change(ctx, base, r.bUsers[i%len(r.bUsers)], "w"); err != nil {
				return err
			}
		}
		before := r.pluginRequests()
		var spans []span // the plugin's changes, for its Zulip round trips
		var pMs, bMs []float64
		var pErr, bErr int
		for i := range r.cfg.Changes {
			for _, p := range []struct {
				name  string
				op    op
				users []*user
				ms    *[]float64
				errs  *int
			}{{"baseline", base, r.bUsers, &bMs, &bErr}, {"plugin", plugin, r.pUsers, &pMs, &pErr}} {
				u := p.users[i%len(p.users)]
				email := u.nextEmail("l")
				began := time.Now()
				d, err := p.op(ctx, u, email)
				if p.name == "plugin" {
					spans = append(spans, span{began, time.Now()})
				}
				s := sample{Phase: phase, Path: p.name, Seq: i, Ms: float64(d) / float64(time.Millisecond)}
				if err != nil {
					*p.errs++
					s.Err = err.Error()
				} else {
					u.email = email
				}
				*p.ms = append(*p.ms, s.Ms)
				r.samples = append(r.samples, s)
			}
		}
		r.requests += r.pluginRequests() - before
		r.changes += r.cfg.Changes
		b, p := summarise(bMs), summarise(pMs)
		latName := fmt.Sprintf("%d ms", lat.Milliseconds())
		r.row("baseline: admin PATCH + Zulip PATCH", latName, b, bErr)
		r.row("plugin: /account email", latName, p, pErr)
		r.panels = append(r.panels, chart.Panel{
			Title:  fmt.Sprintf("One change at a time, Zulip latency %s (%d changes per path)", latName, r.cfg.Changes),
			Series: []chart.Series{{Name: "baseline", Millis: bMs}, {Name: "/account email", Millis: pMs}},
		})
		tag := "Zulip " + latName
		if lat == 0 {
			if err := r.callsPerChange(ctx, plugin, 100); err != nil {
				return fmt.Errorf("counting the calls per change: %w", err)
			}
			order, stretches, err := profileSteps(ctx, r.st)
			if err != nil {
				return fmt.Errorf("reading the records for the profile: %w", err)
			}
			fmt.Fprintf(&r.profile, "| stretch of /account email (Zulip 0 ms, from the records' step times) | median ms |\n|---|---|\n")
			for _, name := range order {
				fmt.Fprintf(&r.profile, "| %s | %.2f |\n", name, stretches[name])
			}
			r.add(atMost("added p50 over baseline, "+tag, p.P50-b.P50, "ms", 8),
				atMost("added p99 over baseline, "+tag, p.P99-b.P99, "ms", 20))
		} else {
			median, mean := r.zulipRounds(spans, lat)
			r.add(info("added p50 over baseline, "+tag, p.P50-b.P50, "ms"),
				info("added p99 over baseline, "+tag, p.P99-b.P99, "ms"),
				atMost("Zulip round trips one after another per change, median (linked user), "+tag, median, "", 2),
				info("Zulip round trips one after another per change, mean (with the facts' check every 5 min), "+tag, mean, ""))
		}
		r.add(info("plugin/baseline p50 ratio, "+tag, p.P50/b.P50, "x"),
			atMost("errors, "+tag, float64(pErr+bErr), "", 0))
		lost, mismatched, err := r.verifyAll(ctx)
		if err != nil {
			return err
		}
		r.add(atMost("lost or mismatched after, "+tag, float64(lost+mismatched), "", 0))
	}
	r.latency.Store(0)
	r.add(info("Zulip requests per change (linked user)", float64(r.requests)/float64(max(r.changes, 1)), ""))
	return nil
}

func (r *run) row(path, lat string, d dist, errs int) {
	fmt.Fprintf(&r.table, "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %d |\n", path, lat, d.N, d.P50, d.P95, d.P99, d.Max, errs)
}

// change makes one untimed change and remembers the new address.
func (r *run) change(ctx context.Context, o op, u *user, tag string) error {
	email := u.nextEmail(tag)
	if _, err := o(ctx, u, email); err != nil {
		return fmt.Errorf("warm-up change of %s: %w", u.name, err)
	}
	u.email = email
	return nil
}

// pluginRequests counts the Zulip requests the plugin made so far.
func (r *run) pluginRequests() int {
	n := 0
	for _, q := range r.st.Zulip.Requests() {
		if q.UserAgent != benchUserAgent {
			n++
		}
	}
	return n
}

func (r *run) verifyAll(ctx context.Context) (lost, mismatched int, err error) {
	l1, m1, err := verify(ctx, r.st, r.pUsers)
	if err != nil {
		return 0, 0, err
	}
	l2, m2, err := verify(ctx, r.st, r.bUsers)
	return l1 + l2, m1 + m2, err
}

// crowds: n users change at once, for each path.
func (r *run) crowds(ctx context.Context) error {
	r.loadRSS = sampleRSS(r.st)
	plugin, base := pluginOp(r.st), baselineOp(r.st)
	for _, n := range r.cfg.Crowds {
		var rates [2]float64
		var errs [2]int
		for i, p := range []struct {
			name  string
			op    op
			users []*user
		}{{"baseline", base, r.bUsers[:n]}, {"plugin", plugin, r.pUsers[:n]}} {
			cpuBefore := cpuNow(r.st)
			ms, wall, failures := crowd(ctx, p.op, p.users, "c")
			cpu, cpuTotal := cpuNow(r.st).perChange(cpuBefore, n)
			rates[i] = float64(n) / wall.Seconds()
			errs[i] = len(failures)
			r.logf("bench: %d users at once, %s: CPU per change %s", n, p.name, cpu)
			r.add(info(fmt.Sprintf("CPU per change (server, plugin, PostgreSQL), %s, %d users at once", p.name, n), float64(cpuTotal)/float64(time.Millisecond), "ms"))
			for j, m := range ms {
				r.samples = append(r.samples, sample{Phase: fmt.Sprintf("crowd-%d", n), Path: p.name, Seq: j, Ms: m, Err: failures[j]})
			}
			e := errs[i]
			r.logf("bench: %d users at once, %s: %.0f changes/s, %d errors", n, p.name, rates[i], e)
		}
		lost, mismatched, err := r.verifyAll(ctx)
		if err != nil {
			return err
		}
		tag := fmt.Sprintf("%d users at once", n)
		r.add(info("baseline changes/s, "+tag, rates[0], "/s"), info("plugin changes/s, "+tag, rates[1], "/s"))
		if n >= 200 {
			r.add(atLeast("plugin/baseline throughput, "+tag, rates[1]/rates[0], "x", 0.5))
		} else {
			r.add(info("plugin/baseline throughput, "+tag, rates[1]/rates[0], "x"))
		}
		r.add(atMost("errors, "+tag, float64(errs[0]+errs[1]), "", 0),
			atMost("lost or mismatched after, "+tag, float64(lost+mismatched), "", 0))
	}
	r.add(atMost("plugin RSS under load (peak)", float64(r.loadRSS.Max())/(1<<20), "MiB", 100))
	return nil
}

// crowd runs one change per user, all released at once; it returns each
// change's latency, the wall time and the errors by user (only failures).
func crowd(ctx context.Context, o op, users []*user, tag string) ([]float64, time.Duration, map[int]string) {
	ms := make([]float64, len(users))
	var mu sync.Mutex
	failures := map[int]string{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, u := range users {
		email := u.nextEmail(tag)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			d, err := o(ctx, u, email)
			ms[i] = float64(d) / float64(time.Millisecond)
			if err != nil {
				mu.Lock()
				failures[i] = err.Error()
				mu.Unlock()
				return
			}
			u.email = email
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return ms, time.Since(start), failures
}

// burst: Zulip limits the bot; three times the budget's worth of changes
// arrive at once; every one must end in both systems.
func (r *run) burst(ctx context.Context) error {
	limit, window := r.cfg.RateLimit, r.cfg.RateWindow
	n := 3 * limit / 2 // two Zulip requests per change: three budgets' worth
	users := r.pUsers[:n]
	// New settings give the plugin a new Zulip client, which has to learn
	// the budget from Zulip's headers, as after an activation.
	if err := r.st.Configure(ctx, map[string]any{"MaxChangesPerUserPerDay": "0", "ZulipTimeoutSeconds": "10"}); err != nil {
		return err
	}
	r.st.Zulip.SetRateLimit(limit, window)
	defer r.st.Zulip.SetRateLimit(1_000_000, time.Minute)
	time.Sleep(window) // the budget is whole again
	r.st.Zulip.ResetRateLimits()
	r.st.Zulip.ResetRequests()

	start := time.Now()
	_, _, failures := crowd(ctx, waitingPluginOp(r.st), users, "r")
	errs := len(failures)
	for _, u := range users {
		u.email = fmt.Sprintf("%s-r%d@example.com", u.name, u.changes)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var lost, mismatched int
	for {
		var err error
		if lost, mismatched, err = verify(ctx, r.st, users); err != nil {
			return err
		}
		if lost+mismatched == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	allowed, refused := 0, 0
	var first, last time.Time
	for _, q := range r.st.Zulip.Requests() {
		if q.At.Before(start) {
			continue
		}
		if q.Status == http.StatusTooManyRequests {
			refused++
			continue
		}
		allowed++
		if first.IsZero() || q.At.Before(first) {
			first = q.At
		}
		if q.Method == http.MethodPatch && q.Done.After(last) {
			last = q.Done
		}
	}
	minimum := time.Duration(math.Ceil(float64(allowed)/float64(limit))-1) * window
	elapsed := last.Sub(first)
	share := 1.0
	if elapsed > 0 {
		share = math.Min(1, minimum.Seconds()/elapsed.Seconds())
	}
	tag := fmt.Sprintf("burst of %d changes, Zulip limit %d per %s", n, limit, window)
	r.add(atMost("lost or mismatched after, "+tag, float64(lost+mismatched), "", 0),
		atMost("errors, "+tag, float64(errs), "", 0),
		info("Zulip requests (allowed), "+tag, float64(allowed), ""),
		info("Zulip answers 429, "+tag, float64(refused), ""),
		info("time to the last change (theoretical minimum "+minimum.String()+"), "+tag, elapsed.Seconds(), "s"),
		atLeast("share of the rate-limit budget used, "+tag, 100*share, "%", 90))
	return nil
}

func (r *run) write() error {
	var out strings.Builder
	for _, t := range []*strings.Builder{&r.table, &r.profile, &r.scans, &r.offers, &r.migrations, &r.migrationPlans} {
		if t.Len() > 0 {
			out.WriteString(t.String())
			out.WriteString("\n")
		}
	}
	met, missed := 0, []string{}
	for _, m := range r.metrics {
		out.WriteString(m.String() + "\n")
		if m.Target != "" {
			if m.Met {
				met++
			} else {
				missed = append(missed, m.Name)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "results.md"), []byte(out.String()), 0o600); err != nil {
		return err
	}
	if err := writeSamples(r.cfg.Out, r.samples); err != nil {
		return err
	}
	if err := writeMetrics(r.cfg.Out, r.metrics); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(r.cfg.Out, "latency.svg"))
	if err != nil {
		return err
	}
	if err := chart.WriteSVG(f, "Account Sync: latency of an email change", r.panels); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprint(os.Stdout, out.String())
	fmt.Fprintf(os.Stdout, "\nresults in %s (results.md, summary.csv, latency.csv, latency.svg; migration.csv and migration-requests.csv after the migration phase)\n", r.cfg.Out)
	summary := fmt.Sprintf("bench: %d of %d targets met", met, met+len(missed))
	if len(missed) > 0 {
		summary += "; missed: " + strings.Join(missed, "; ")
	}
	fmt.Fprintln(os.Stdout, summary)
	return nil
}

// span is when one change ran.
type span struct{ from, to time.Time }

// zulipRounds is the plugin's Zulip round trips per change (median and
// mean): its requests
// received during each change (events aside), grouped by time; a request
// that comes more than half the emulator's latency after the one before
// starts a new round trip, one that comes with it goes side by side.
func (r *run) zulipRounds(spans []span, latency time.Duration) (median, mean float64) {
	reqs := r.st.Zulip.Requests()
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].At.Before(reqs[j].At) })
	per := make([]float64, 0, len(spans))
	total, k := 0, 0
	for _, sp := range spans {
		var last time.Time
		rounds := 0
		for ; k < len(reqs) && reqs[k].At.Before(sp.to); k++ {
			q := reqs[k]
			if q.At.Before(sp.from) || q.UserAgent == benchUserAgent || eventPath(q.Path) {
				continue
			}
			if last.IsZero() || q.At.Sub(last) > latency/2 {
				rounds++
			}
			last = q.At
		}
		per = append(per, float64(rounds))
		total += rounds
	}
	if len(per) == 0 {
		return 0, 0
	}
	sort.Float64s(per)
	return per[len(per)/2], float64(total) / float64(len(per))
}
