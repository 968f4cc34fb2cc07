// Command bench measures Account Sync against the server's own path on the
// end-to-end test bed; see `make bench` and e2e/bench.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/bench"
)

func main() {
	cfg := bench.Config{Log: os.Stderr, Latencies: []time.Duration{0, 50 * time.Millisecond}, Crowds: []int{50, 200}}
	flag.StringVar(&cfg.Out, "out", "build/bench", "directory for the results")
	flag.StringVar(&cfg.Bundle, "bundle", "", "the all-platform bundle, for its sizes")
	flag.IntVar(&cfg.Changes, "changes", 500, "timed changes per path and Zulip latency")
	flag.IntVar(&cfg.RateLimit, "rate-limit", 20, "the emulator's request budget per window in the burst")
	flag.DurationVar(&cfg.RateWindow, "rate-window", 2*time.Second, "the emulator's rate-limit window in the burst")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()
	if err := bench.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
