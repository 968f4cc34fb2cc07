package zuliptest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	me := "/api/v1/users/me"

	t.Run("float retry-after", func(t *testing.T) {
		clock := &fakeClock{t: start}
		f := newFixture(t, withClock(clock), WithRateLimit(3, 60*time.Second))
		for i, step := range []time.Duration{0, 10 * time.Second, 10500 * time.Millisecond} {
			clock.Advance(step)
			a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
			if a.status != 200 {
				t.Fatalf("request %d: %d %s", i, a.status, a.raw)
			}
			if got := a.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(2-i) {
				t.Errorf("request %d: remaining = %s", i, got)
			}
			if got := a.header.Get("X-RateLimit-Limit"); got != "3" {
				t.Errorf("limit = %s", got)
			}
			if got := a.header.Get("X-RateLimit-Reset"); got != strconv.FormatInt(start.Add(time.Minute).Unix(), 10) {
				t.Errorf("reset = %s", got)
			}
		}
		clock.Advance(10800 * time.Millisecond) // t = 31.3 s
		a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm("new@example.org"), f.as(f.owner))
		if a.status != 429 || a.str("code") != CodeRateLimitHit || a.str("msg") != MsgRateLimit {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
		if got := a.header.Get("Retry-After"); got != "28.7" {
			t.Errorf("Retry-After = %q, want 28.7", got)
		}
		if !strings.Contains(a.raw, `"retry-after":28.7`) || a.body["retry-after"] != 28.7 {
			t.Errorf("body = %s", a.raw)
		}
		if a.header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("remaining = %q", a.header.Get("X-RateLimit-Remaining"))
		}
		if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
			t.Errorf("changed despite 429")
		}
		// Other accounts have their own budget.
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.admin)); a.status != 200 {
			t.Errorf("admin: %d", a.status)
		}
		// Refused requests are not counted: the first slot frees at 60 s.
		clock.Advance(28699 * time.Millisecond)
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner)); a.status != 429 {
			t.Errorf("just before 60 s: %d", a.status)
		}
		clock.Advance(time.Millisecond)
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner)); a.status != 200 {
			t.Errorf("at 60 s: %d %s", a.status, a.raw)
		}
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner)); a.status != 429 || a.header.Get("Retry-After") != "10.0" {
			t.Errorf("next: %d %q", a.status, a.header.Get("Retry-After"))
		}
	})

	t.Run("whole seconds still float", func(t *testing.T) {
		clock := &fakeClock{t: start}
		f := newFixture(t, withClock(clock), WithRateLimit(1, 60*time.Second))
		call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
		a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
		if a.status != 429 || a.header.Get("Retry-After") != "60.0" || !strings.Contains(a.raw, `"retry-after":60.0`) {
			t.Fatalf("got %d %q %s", a.status, a.header.Get("Retry-After"), a.raw)
		}
	})

	t.Run("order: after credentials, before lookup", func(t *testing.T) {
		f := newFixture(t, WithRateLimit(1, time.Hour))
		call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
		if a := call(t, f.srv, http.MethodGet, me, nil, creds{f.owner.Email, "WrongKey0123456789abcdefghijklmn"}); a.status != 401 {
			t.Errorf("bad credentials: %d", a.status)
		}
		if a := call(t, f.srv, http.MethodPatch, userPath("nobody@example.org"), newEmailForm("x@example.org"), f.as(f.owner)); a.status != 429 {
			t.Errorf("unknown target: %d", a.status)
		}
	})

	t.Run("SetRateLimit", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetRateLimit(2, time.Hour)
		for i := 0; i < 2; i++ {
			call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
		}
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner)); a.status != 429 {
			t.Fatalf("got %d", a.status)
		}
		f.srv.SetRateLimit(3, time.Hour)
		if a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner)); a.status != 200 {
			t.Fatalf("after raising: %d", a.status)
		}
	})

	t.Run("default is 200 per minute", func(t *testing.T) {
		f := newFixture(t)
		a := call(t, f.srv, http.MethodGet, me, nil, f.as(f.owner))
		if a.header.Get("X-RateLimit-Limit") != "200" || a.header.Get("X-RateLimit-Remaining") != "199" {
			t.Errorf("headers = %v", a.header)
		}
	})

	t.Run("unauthenticated per IP", func(t *testing.T) {
		f := newFixture(t, WithIPRateLimit(2, time.Minute))
		for i := 0; i < 2; i++ {
			if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 200 {
				t.Fatalf("request %d: %d", i, a.status)
			}
		}
		a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{})
		if a.status != 429 || a.header.Get("Retry-After") == "" {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
	})
}
