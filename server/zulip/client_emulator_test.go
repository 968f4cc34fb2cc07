package zulip_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest/spectest"
)

const (
	botEmail = "sync-bot@zulip.example.com"
	botKey   = "0123456789abcdefABCDEF0123456789"
)

// newEmulated starts the emulator with every request the client sends, and
// every answer, checked against Zulip's OpenAPI spec.
func newEmulated(tb testing.TB, opts ...zuliptest.Option) (*zuliptest.Server, *zulip.Client) {
	tb.Helper()
	v := spectest.Load(tb)
	zs := zuliptest.NewServer(append(opts, zuliptest.WithMiddleware(v.Middleware(tb)))...)
	tb.Cleanup(zs.Close)
	zs.AddBot(botEmail, botKey, zuliptest.RoleOwner, true)
	c, err := zulip.NewClient(zulip.Config{SiteURL: zs.URL, BotEmail: botEmail, APIKey: botKey, UserAgent: "AccountSync/test", Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return zs, c
}

func TestClientAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	zs, c := newEmulated(t)
	ann := zs.AddUser(zuliptest.User{Email: "ann+x%y?z@example.org", FullName: "Ann"})
	zs.AddUser(zuliptest.User{Email: "bob@example.org", FullName: "Bob"})

	s, err := c.ServerSettings(ctx)
	if err != nil || s.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
		t.Fatalf("settings %+v %v", s, err)
	}
	me, err := c.Me(ctx)
	if err != nil || me.Role != zulip.RoleOwner {
		t.Fatalf("me %+v %v", me, err)
	}
	u, err := c.GetUser(ctx, "ANN+X%Y?Z@example.org")
	if err != nil || u.ID != ann.ID || u.RealAddress() != "ann+x%y?z@example.org" {
		t.Fatalf("get %+v %v", u, err)
	}
	// An address holding "/" cannot be addressed by email: Zulip routes on
	// the decoded path (CONTRACT.md), so the lookup finds no route.
	zs.AddUser(zuliptest.User{Email: "a/b@example.org", FullName: "Slash"})
	if _, err := c.GetUser(ctx, "a/b@example.org"); zulip.ReasonOf(err) != zulip.ReasonNotFound {
		t.Errorf("lookup of an address with a slash: %v", err)
	}
	// The probe: same address, changes nothing.
	if err := c.ChangeEmailByID(ctx, ann.ID, "ann+x%y?z@example.org"); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := c.ChangeEmailByID(ctx, ann.ID, "bob@example.org"); zulip.ReasonOf(err) != zulip.ReasonEmailInUse {
		t.Errorf("taken: %v", err)
	}
	if err := c.ChangeEmailByID(ctx, ann.ID, "ann.new@example.org"); err != nil {
		t.Fatalf("change: %v", err)
	}
	if got, _ := zs.User(ann.ID); got.Email != "ann.new@example.org" {
		t.Errorf("emulator has %s", got.Email)
	}
	if _, err := c.GetUser(ctx, "nobody@example.org"); zulip.ReasonOf(err) != zulip.ReasonNoSuchUser {
		t.Errorf("missing user: %v", err)
	}
	for _, r := range zs.Requests() {
		if r.Method == "PATCH" && (r.BodyWasJSON || r.ContentType != "application/x-www-form-urlencoded") {
			t.Errorf("PATCH sent %q", r.ContentType)
		}
	}
}

func TestClientErrorsFromTheEmulator(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(zs *zuliptest.Server, c *zulip.Client)
		reason zulip.Reason
		check  func(t *testing.T, err error)
	}{
		{"no permission", func(zs *zuliptest.Server, _ *zulip.Client) {
			b, _ := zs.UserByEmail(botEmail)
			b.CanChangeUserEmails = false
			zs.UpdateUser(b)
		}, zulip.ReasonCannotChangeEmails, nil},
		{"not admin", func(zs *zuliptest.Server, _ *zulip.Client) {
			b, _ := zs.UserByEmail(botEmail)
			b.Role = zuliptest.RoleMember
			zs.UpdateUser(b)
		}, zulip.ReasonInsufficientPermission, nil},
		{"rate limited", func(zs *zuliptest.Server, c *zulip.Client) {
			zs.SetRateLimit(1, time.Minute)
			_, _ = c.Me(context.Background()) // spends the window's only request
		}, zulip.ReasonUnknown, func(t *testing.T, err error) {
			var rl *zulip.RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
				t.Errorf("want a RateLimitError with a wait, got %v", err)
			}
		}},
		{"server error", func(zs *zuliptest.Server, _ *zulip.Client) {
			zs.AddFault(zuliptest.Fault{Kind: zuliptest.FaultStatus, Status: 500})
		}, zulip.ReasonUnknown, func(t *testing.T, err error) {
			if !zulip.IsTransient(err) {
				t.Errorf("500 not transient: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zs, c := newEmulated(t)
			ann := zs.AddUser(zuliptest.User{Email: "ann@example.org"})
			tc.setup(zs, c)
			err := c.ChangeEmailByID(context.Background(), ann.ID, "ann.new@example.org")
			if err == nil {
				t.Fatal("no error")
			}
			if zulip.ReasonOf(err) != tc.reason {
				t.Errorf("reason %s, want %s (%v)", zulip.ReasonOf(err), tc.reason, err)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

// BenchmarkChangeEmail is one PATCH /users/{id} round trip to the emulator
// on loopback (spec validation off; a probe, to the user's own address),
// the client's cost per change.
func BenchmarkChangeEmail(b *testing.B) {
	zs := zuliptest.NewServer(zuliptest.WithRateLimit(1<<30, time.Minute))
	defer zs.Close()
	zs.AddBot(botEmail, botKey, zuliptest.RoleOwner, true)
	ann := zs.AddUser(zuliptest.User{Email: "ann@example.org"})
	c, err := zulip.NewClient(zulip.Config{SiteURL: zs.URL, BotEmail: botEmail, APIKey: botKey})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.ChangeEmailByID(context.Background(), ann.ID, "ann@example.org"); err != nil {
			b.Fatal(err)
		}
	}
}
