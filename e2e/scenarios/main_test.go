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

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

const (
	pluginID   = "account-sync"
	botEmail   = "sync-bot@zulip.example.com"
	zulipHost  = "zulip.example.com"
	setupLimit = 45 * time.Minute
)

// world is the running test bed, shared by every test in the package.
type world struct {
	bed    *testbed.Bed
	zulip  *zuliptest.Server
	botKey string
}

var w *world

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
	bed, err := testbed.Start(ctx, testbed.Options{Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the test bed:", err)
		return 1
	}
	defer func() { _ = bed.Stop() }()

	bundle, err := testbed.BuildPluginBundle(ctx, bed.RepoRoot, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the plugin bundle:", err)
		return 1
	}
	if err := bed.InstallPlugin(ctx, bundle, pluginID); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: installing the plugin:", err)
		return 1
	}

	zs := zuliptest.NewServer(zuliptest.WithHost(zulipHost))
	defer zs.Close()
	w = &world{bed: bed, zulip: zs, botKey: "bot-key-" + randomName("")}
	zs.AddBot(botEmail, w.botKey, zuliptest.RoleOwner, true)
	if err := w.configure(ctx, nil); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: configuring the plugin:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: test bed ready in %s (server %s, Zulip emulator %s, logs %s)\n",
		time.Since(started).Round(time.Second), bed.SiteURL, zs.URL, bed.LogDir)

	code := m.Run()
	w.writeZulipLog()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: logs kept in %s\n", bed.LogDir)
	}
	return code
}

// goodSettings is the plugin configuration every test starts from.
func (w *world) goodSettings() map[string]any {
	return map[string]any{
		"ZulipSyncEnabled":    true,
		"ZulipURL":            w.zulip.URL,
		"ZulipBotEmail":       botEmail,
		"ZulipAPIKey":         w.botKey,
		"ZulipTimeoutSeconds": "5",
	}
}

// configure sets the plugin settings: the good ones with overrides applied.
func (w *world) configure(ctx context.Context, overrides map[string]any) error {
	s := w.goodSettings()
	for k, v := range overrides {
		s[k] = v
	}
	return w.bed.SetPluginSettings(ctx, pluginID, s)
}

// writeZulipLog keeps what the emulator received (never the API key).
func (w *world) writeZulipLog() {
	var b strings.Builder
	for _, r := range w.zulip.Requests() {
		fmt.Fprintf(&b, "%s %s?%s ct=%q form=%v json=%v auth=%s ua=%q -> %d\n", r.Method, r.Path, r.RawQuery, r.ContentType, r.Form, r.BodyWasJSON, r.AuthEmail, r.UserAgent, r.Status)
	}
	_ = os.WriteFile(filepath.Join(w.bed.LogDir, "zulip-requests.log"), []byte(b.String()), 0o644)
}
