// Command bench measures Account Sync against the server's own path on the
// end-to-end test bed; see `make bench` and e2e/bench.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench"
)

func main() {
	cfg := bench.Config{Log: os.Stderr, Latencies: []time.Duration{0, 50 * time.Millisecond}, Crowds: []int{50, 200}, ScanSizes: []int{1000, 10000}}
	flag.StringVar(&cfg.Out, "out", "build/bench", "directory for the results")
	flag.StringVar(&cfg.Bundle, "bundle", "", "the all-platform bundle, for its sizes")
	flag.IntVar(&cfg.Changes, "changes", 500, "timed changes per path and Zulip latency")
	flag.IntVar(&cfg.RateLimit, "rate-limit", 20, "the emulator's request budget per window in the burst")
	flag.DurationVar(&cfg.RateWindow, "rate-window", 2*time.Second, "the emulator's rate-limit window in the burst")
	flag.Func("only", "run only these phases, comma-separated: "+strings.Join(bench.Phases, ", "), func(v string) error {
		cfg.Only = strings.Split(v, ",")
		return nil
	})
	flag.Func("scan-sizes", "linked users at which the scan is measured, comma-separated (default 1000,10000)", func(v string) error {
		cfg.ScanSizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 10 {
				return fmt.Errorf("not a number of users (at least 10): %q", f)
			}
			cfg.ScanSizes = append(cfg.ScanSizes, n)
		}
		return nil
	})
	flag.IntVar(&cfg.ScanRuns, "scan-runs", 3, "scans measured per size")
	flag.IntVar(&cfg.Offers, "offers", 20, "changes in Zulip's settings timed until the offer, per size")
	flag.IntVar(&cfg.MigrationUsers, "migration-users", 1000, "linked users migrated to another domain at Zulip's default limit (200 requests a minute; 0 skips)")
	flag.IntVar(&cfg.MigrationPlanUsers, "migration-plan-users", 10000, "linked users then planned only, for the plan's time and memory (0 skips)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Minute)
	defer cancel()
	if err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
