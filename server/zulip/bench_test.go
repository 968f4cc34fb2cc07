package zulip_test

import (
	"context"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// newBenchEmulated starts the Zulip emulator on loopback with rate limits
// far above what a benchmark sends, and a client for its owner bot. Unlike
// newEmulated it does not wrap the server in the spec validator, so the
// numbers are the client's and the emulator's own cost plus the loopback
// round trip.
func newBenchEmulated(b *testing.B) (*zuliptest.Server, *zulip.Client) {
	b.Helper()
	zs := zuliptest.NewServer(
		zuliptest.WithRateLimit(1_000_000, time.Minute),
		zuliptest.WithIPRateLimit(1_000_000, time.Minute),
	)
	b.Cleanup(zs.Close)
	zs.AddBot(botEmail, botKey, zuliptest.RoleOwner, true)
	c, err := zulip.NewClient(zulip.Config{
		SiteURL:   zs.URL,
		BotEmail:  botEmail,
		APIKey:    botKey,
		UserAgent: "AccountSync/bench",
		Timeout:   5 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	return zs, c
}

// BenchmarkClientServerSettings measures GET /server_settings, a round
// trip on every call.
func BenchmarkClientServerSettings(b *testing.B) {
	ctx := context.Background()
	_, c := newBenchEmulated(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.ServerSettings(ctx)
		if err != nil || s.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
			b.Fatalf("settings %+v %v", s, err)
		}
	}
}

// BenchmarkClientGetUserByID measures GET /users/{id}.
func BenchmarkClientGetUserByID(b *testing.B) {
	ctx := context.Background()
	zs, c := newBenchEmulated(b)
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann"})
	b.ReportAllocs()
	for b.Loop() {
		u, err := c.GetUserByID(ctx, ann.ID)
		if err != nil || u.ID != ann.ID {
			b.Fatalf("get %+v %v", u, err)
		}
	}
}

// BenchmarkClientGetUser measures GET /users/{email}.
func BenchmarkClientGetUser(b *testing.B) {
	ctx := context.Background()
	zs, c := newBenchEmulated(b)
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org", FullName: "Ann"})
	b.ReportAllocs()
	for b.Loop() {
		u, err := c.GetUser(ctx, "ann@example.org")
		if err != nil || u.ID != ann.ID {
			b.Fatalf("get %+v %v", u, err)
		}
	}
}

// BenchmarkClientChangeEmailByID measures PATCH /users/{id} with new_email,
// alternating between two addresses so that every call is a real change.
func BenchmarkClientChangeEmailByID(b *testing.B) {
	ctx := context.Background()
	zs, c := newBenchEmulated(b)
	addrs := [2]string{"ann.a@example.org", "ann.b@example.org"}
	ann := zs.AddUser(zuliptest.User{Email: addrs[0], FullName: "Ann"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// i starts at 0 while the user holds addrs[0], so the first call
		// moves her to addrs[1], the next one back, and so on.
		if err := c.ChangeEmailByID(ctx, ann.ID, addrs[(i+1)%2]); err != nil {
			b.Fatalf("change %d: %v", i, err)
		}
	}
	b.StopTimer()
	if got, _ := zs.User(ann.ID); got.Email != addrs[b.N%2] {
		b.Fatalf("after %d changes the user has %q, want %q", b.N, got.Email, addrs[b.N%2])
	}
}
