package zulip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers every request with a success that any call would
// accept, and counts the requests (and those carrying credentials).
type countingServer struct {
	*httptest.Server
	hits, authed atomic.Int32
}

func newCountingServer(t *testing.T, tls bool) *countingServer {
	t.Helper()
	cs := &countingServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			cs.authed.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":"success","msg":"","id":7,"members":[],"user":{"user_id":5,"email":"ann@example.org","delivery_email":"ann@example.org"}}`)
	})
	if tls {
		cs.Server = httptest.NewTLSServer(h)
	} else {
		cs.Server = httptest.NewServer(h)
	}
	t.Cleanup(cs.Close)
	return cs
}

// redirectingServer answers every request with status and Location loc
// (none when loc is ""), and counts the requests.
type redirectingServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newRedirectingServer(t *testing.T, tls bool, status int, loc func(r *http.Request) string) *redirectingServer {
	t.Helper()
	rs := &redirectingServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.hits.Add(1)
		if l := loc(r); l != "" {
			w.Header().Set("Location", l)
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>Moved</body></html>")
	})
	if tls {
		rs.Server = httptest.NewTLSServer(h)
	} else {
		rs.Server = httptest.NewServer(h)
	}
	t.Cleanup(rs.Close)
	return rs
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	type target struct {
		name       string
		tlsOrigin  bool
		location   func(r *http.Request, dst *countingServer) string
		wantScheme string
		wantHost   func(origin *redirectingServer, dst *countingServer) string
	}
	hostOf := func(s *httptest.Server) string { u, _ := url.Parse(s.URL); return u.Host }
	portOf := func(s *httptest.Server) string { u, _ := url.Parse(s.URL); return u.Port() }
	targets := []target{
		{"same host, other port", false,
			func(r *http.Request, dst *countingServer) string { return dst.URL + r.URL.RequestURI() },
			"http", func(_ *redirectingServer, dst *countingServer) string { return hostOf(dst.Server) }},
		{"other host name", false,
			func(r *http.Request, dst *countingServer) string {
				return "http://localhost:" + portOf(dst.Server) + r.URL.RequestURI()
			},
			"http", func(_ *redirectingServer, dst *countingServer) string { return "localhost:" + portOf(dst.Server) }},
		{"https to http", true,
			func(r *http.Request, dst *countingServer) string { return dst.URL + r.URL.RequestURI() },
			"http", func(_ *redirectingServer, dst *countingServer) string { return hostOf(dst.Server) }},
		{"relative, to a login page", false,
			func(*http.Request, *countingServer) string {
				return "/accounts/login/?next=/api/v1/users/ann%40example.org"
			},
			"http", func(origin *redirectingServer, _ *countingServer) string { return hostOf(origin.Server) }},
		{"no Location", false,
			func(*http.Request, *countingServer) string { return "" },
			"", func(*redirectingServer, *countingServer) string { return "" }},
	}
	calls := []struct {
		name, op string
		call     func(c *Client) error
	}{
		{"GET by email", "GET /api/v1/users/{email}", func(c *Client) error {
			_, err := c.GetUser(context.Background(), "ann@example.org")
			return err
		}},
		{"GET by id", "GET /api/v1/users/{id}", func(c *Client) error {
			_, err := c.GetUserByID(context.Background(), 5)
			return err
		}},
		{"PATCH by id", "PATCH /api/v1/users/{id}", func(c *Client) error {
			return c.ChangeEmailByID(context.Background(), 5, "ann.new@example.org")
		}},
		{"POST message", "POST /api/v1/messages", func(c *Client) error {
			_, err := c.SendDirectMessage(context.Background(), 5, "code 123456")
			return err
		}},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, tg := range targets {
			for _, cl := range calls {
				t.Run(strconv.Itoa(status)+"/"+tg.name+"/"+cl.name, func(t *testing.T) {
					dst := newCountingServer(t, false)
					origin := newRedirectingServer(t, tg.tlsOrigin, status, func(r *http.Request) string { return tg.location(r, dst) })
					cfg := Config{SiteURL: origin.URL, BotEmail: "bot@zulip.example.com", APIKey: testKey, Timeout: 2 * time.Second}
					if tg.tlsOrigin {
						cfg.HTTPClient = origin.Client()
					}
					c, err := NewClient(cfg)
					if err != nil {
						t.Fatal(err)
					}

					err = cl.call(c)

					var re *RedirectError
					if !errors.As(err, &re) {
						t.Fatalf("err = %v, want a *RedirectError (a redirect must never pass for success)", err)
					}
					if !IsRedirect(err) || IsTransient(err) {
						t.Errorf("IsRedirect %v, IsTransient %v", IsRedirect(err), IsTransient(err))
					}
					if re.Status != status || re.Op != cl.op {
						t.Errorf("status %d op %q, want %d %q", re.Status, re.Op, status, cl.op)
					}
					if wantHost := tg.wantHost(origin, dst); re.TargetScheme != tg.wantScheme || re.TargetHost != wantHost {
						t.Errorf("target %q %q, want %q %q", re.TargetScheme, re.TargetHost, tg.wantScheme, wantHost)
					}
					if n := dst.hits.Load(); n != 0 {
						t.Errorf("the redirect target got %d requests (%d with credentials)", n, dst.authed.Load())
					}
					if n := origin.hits.Load(); n != 1 {
						t.Errorf("the origin got %d requests, want 1", n)
					}
					msg := err.Error()
					for _, leak := range []string{testKey, "ann@example.org", "ann%40example.org", "next=", "/accounts/login"} {
						if strings.Contains(msg, leak) {
							t.Errorf("error text holds %q: %s", leak, msg)
						}
					}
					if !strings.Contains(msg, "answered HTTP "+strconv.Itoa(status)) || !strings.Contains(msg, "not followed") {
						t.Errorf("error text %q", msg)
					}
				})
			}
		}
	}
}

func TestRedirectErrorText(t *testing.T) {
	origin := newRedirectingServer(t, false, http.StatusMovedPermanently, func(*http.Request) string {
		return "https://other.example/api/v1/users/5?token=abc"
	})
	c, err := NewClient(Config{SiteURL: origin.URL, BotEmail: "bot@x.org", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	err = c.ChangeEmailByID(context.Background(), 5, "new@example.org")
	const want = "zulip: PATCH /api/v1/users/{id}: answered HTTP 301, a redirect to https://other.example (not followed: set the Zulip site URL to the final address)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestGivenHTTPClientIsCopied: a caller's client that follows redirects is
// not followed either, and is left as it was.
func TestGivenHTTPClientIsCopied(t *testing.T) {
	dst := newCountingServer(t, false)
	origin := newRedirectingServer(t, true, http.StatusFound, func(r *http.Request) string { return dst.URL + r.URL.RequestURI() })
	given := origin.Client()
	follow := func(*http.Request, []*http.Request) error { return nil }
	given.CheckRedirect = follow
	c, err := NewClient(Config{SiteURL: origin.URL, BotEmail: "bot@x.org", APIKey: testKey, HTTPClient: given})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ChangeEmailByID(context.Background(), 5, "new@example.org"); !IsRedirect(err) {
		t.Fatalf("err = %v, want a redirect error", err)
	}
	if dst.hits.Load() != 0 {
		t.Errorf("the redirect was followed")
	}
	if given.CheckRedirect == nil {
		t.Errorf("the given client was changed")
	}
}
