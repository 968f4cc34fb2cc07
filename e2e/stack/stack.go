// Package stack brings up everything Account Sync runs against in the test
// bed: Mattermost with the plugin bundle installed, and the Zulip emulator
// with an owner bot that may change emails, the plugin configured to use it.
// The end-to-end suite and the demo both start from here.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Names the stack uses.
const (
	PluginID  = "account-sync"
	BotEmail  = "sync-bot@zulip.example.com"
	ZulipHost = "zulip.example.com"
)

// Stack is a running Mattermost with the plugin, and the Zulip emulator.
type Stack struct {
	Bed    *testbed.Bed
	Zulip  *zuliptest.Server
	BotKey string // the emulator bot's API key (a throwaway value)
}

// Options adjust a stack; the zero value is the end-to-end suite's.
type Options struct {
	// Zulip are extra options for the emulator, applied after the stack's.
	Zulip []zuliptest.Option
}

// Start builds and installs the plugin bundle on a new test bed and points
// it at a new Zulip emulator. On failure everything started is stopped.
func Start(ctx context.Context, log io.Writer) (*Stack, error) {
	return StartWith(ctx, log, Options{})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, log io.Writer, opts Options) (*Stack, error) {
	bed, err := testbed.Start(ctx, testbed.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("starting the test bed: %w", err)
	}
	s := &Stack{Bed: bed, BotKey: randomHex(16)}
	if err := s.setup(ctx, log, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) setup(ctx context.Context, log io.Writer, opts Options) error {
	bundle, err := testbed.BuildPluginBundle(ctx, s.Bed.RepoRoot, log)
	if err != nil {
		return fmt.Errorf("building the plugin bundle: %w", err)
	}
	if err := s.Bed.InstallPlugin(ctx, bundle, PluginID); err != nil {
		return fmt.Errorf("installing the plugin: %w", err)
	}
	// The suite makes hundreds of changes a minute, far more than Zulip's
	// 200 requests a minute per bot allow; rate limits are tested with
	// faults (e2e) and the emulator's own limiter (its unit tests).
	zopts := append([]zuliptest.Option{zuliptest.WithHost(ZulipHost), zuliptest.WithRateLimit(1_000_000, time.Minute)}, opts.Zulip...)
	s.Zulip = zuliptest.NewServer(zopts...)
	s.Zulip.AddBot(BotEmail, s.BotKey, zuliptest.RoleOwner, true)
	if err := s.Configure(ctx, nil); err != nil {
		return fmt.Errorf("configuring the plugin: %w", err)
	}
	return nil
}

// GoodSettings is the working plugin configuration against the emulator.
// It names every setting, with the manifest's defaults where the emulator
// needs nothing else, so that Configure also undoes earlier overrides.
func (s *Stack) GoodSettings() map[string]any {
	return map[string]any{
		"ZulipSyncEnabled":        true,
		"ZulipURL":                s.Zulip.URL, // loopback: plain HTTP is allowed
		"ZulipBotEmail":           BotEmail,
		"ZulipAPIKey":             s.BotKey,
		"ZulipTimeoutSeconds":     "5",
		"ZulipAllowPlainHTTP":     false,
		"AllowOAuthSessions":      false,
		"MaxChangesPerUserPerDay": "5",
		"RecordRetentionDays":     "90",
		"RetryForHours":           "24",
		// The scan (forwarding changes made in Mattermost elsewhere) stays
		// out of the way of the other tests: it runs at activation, then
		// once a day. The forwarding tests turn on ReconcileIntervalSeconds.
		"MattermostChangesElsewhere": "forward",
		"ZulipChangesElsewhere":      "ask",
		"ReconcileIntervalMinutes":   "1440",
		// Hidden timings, so background retries happen within seconds.
		"JobIntervalSeconds":       "1",
		"RetryFirstSeconds":        "1",
		"ReconcileIntervalSeconds": "",
	}
}

// Configure sets the plugin settings: GoodSettings with overrides applied.
func (s *Stack) Configure(ctx context.Context, overrides map[string]any) error {
	settings := s.GoodSettings()
	for k, v := range overrides {
		settings[k] = v
	}
	return s.Bed.SetPluginSettings(ctx, PluginID, settings)
}

// Stop stops the emulator and the bed (the bed keeps its logs).
func (s *Stack) Stop() {
	if s.Zulip != nil {
		s.Zulip.Close()
	}
	_ = s.Bed.Stop()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
