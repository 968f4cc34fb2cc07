// Package scenarios is the end-to-end suite: the real plugin bundle on a
// real Mattermost server (PostgreSQL, SMTP sink) configured against the
// Zulip emulator. Users act through the REST API with their own tokens,
// exactly as the web app does, and every test checks both systems after.
package scenarios

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

const (
	pluginID   = stack.PluginID
	botEmail   = stack.BotEmail
	setupLimit = 45 * time.Minute
)

// w is the running stack, shared by every test in the package.
var w *stack.Stack

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping the end-to-end suite in -short mode")
		os.Exit(0)
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), setupLimit)
	defer cancel()

	started := time.Now()
	st, err := stack.Start(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer st.Stop()
	w = st
	fmt.Fprintf(os.Stderr, "e2e: ready in %s (server %s, Zulip emulator %s, logs %s)\n",
		time.Since(started).Round(time.Second), w.Bed.SiteURL, w.Zulip.URL, w.Bed.LogDir)

	code := m.Run()
	writeZulipLog()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: logs kept in %s\n", w.Bed.LogDir)
	}
	return code
}

// writeZulipLog keeps what the emulator received (never the API key).
func writeZulipLog() {
	var b strings.Builder
	for _, r := range w.Zulip.Requests() {
		fmt.Fprintf(&b, "%s %s?%s ct=%q form=%v json=%v auth=%s ua=%q -> %d\n", r.Method, r.Path, r.RawQuery, r.ContentType, r.Form, r.BodyWasJSON, r.AuthEmail, r.UserAgent, r.Status)
	}
	_ = os.WriteFile(filepath.Join(w.Bed.LogDir, "zulip-requests.log"), []byte(b.String()), 0o644)
}
