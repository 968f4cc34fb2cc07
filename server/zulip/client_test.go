package zulip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "s3cr3t-api-key-0123456789"

func newTestClient(t *testing.T, h http.HandlerFunc) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{SiteURL: srv.URL + "/", BotEmail: "bot@zulip.example.com", APIKey: testKey, UserAgent: "AccountSync/test", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestChangeEmailSendsAFormAsTheBot(t *testing.T) {
	var got *http.Request
	var body string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		_, _ = io.WriteString(w, `{"result":"success","msg":""}`)
	})
	if err := c.ChangeEmailByID(context.Background(), 5, "new@example.org"); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPatch {
		t.Errorf("method %s", got.Method)
	}
	if want := "/api/v1/users/5"; got.URL.EscapedPath() != want {
		t.Errorf("path %s, want %s", got.URL.EscapedPath(), want)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", ct)
	}
	if body != "new_email=new%40example.org" {
		t.Errorf("body %q", body)
	}
	user, key, ok := got.BasicAuth()
	if !ok || user != "bot@zulip.example.com" || key != testKey {
		t.Errorf("basic auth %v %q", ok, user)
	}
	if ua := got.Header.Get("User-Agent"); ua != "AccountSync/test" {
		t.Errorf("user agent %q", ua)
	}
}

// An address in the path is escaped whole: "/", "%", "?" and "#" stay in
// the one path segment.
func TestGetUserEscapesTheAddress(t *testing.T) {
	c, got := recordingClient(t, 200, `{"result":"success","msg":"","user":{"user_id":8,"email":"x@example.org"}}`)
	if _, err := c.GetUser(context.Background(), "a+b/c%d?e#f@example.org"); err != nil {
		t.Fatal(err)
	}
	got.check(t, http.MethodGet, "/api/v1/users/a+b%2Fc%25d%3Fe%23f@example.org")
}

func TestErrorsAreTyped(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		header    map[string]string
		reason    Reason
		transient bool
		retry     time.Duration
		waits     []time.Duration // the waits for Zulip's budget before giving up
	}{
		{"unauthorized", 401, `{"result":"error","msg":"Invalid API key","code":"UNAUTHORIZED"}`, map[string]string{"WWW-Authenticate": `Basic realm="zulip"`}, ReasonUnauthorized, false, 0, nil},
		{"deactivated", 401, `{"result":"error","msg":"Account is deactivated","code":"UNAUTHORIZED"}`, nil, ReasonUnauthorized, false, 0, nil},
		{"no such user", 400, `{"result":"error","msg":"No such user","code":"BAD_REQUEST"}`, nil, ReasonNoSuchUser, false, 0, nil},
		{"insufficient permission", 400, `{"result":"error","msg":"Insufficient permission","code":"BAD_REQUEST"}`, nil, ReasonInsufficientPermission, false, 0, nil},
		{"cannot change emails", 400, `{"result":"error","msg":"User not authorized to change user emails","code":"BAD_REQUEST"}`, nil, ReasonCannotChangeEmails, false, 0, nil},
		{"invalid email", 400, `{"result":"error","msg":"Invalid new email address.","code":"BAD_REQUEST"}`, nil, ReasonInvalidEmail, false, 0, nil},
		{"taken", 400, `{"result":"error","msg":"New email value error: Already has an account.","code":"BAD_REQUEST"}`, nil, ReasonEmailInUse, false, 0, nil},
		{"deactivated target address", 400, `{"result":"error","msg":"New email value error: Account has been deactivated.","code":"BAD_REQUEST"}`, nil, ReasonEmailInUse, false, 0, nil},
		{"localised message", 400, `{"result":"error","msg":"Kein solcher Benutzer","code":"BAD_REQUEST"}`, nil, ReasonBadRequest, false, 0, nil},
		{"too old", 405, `{"result":"error","msg":"Method Not Allowed","allowed_methods":["GET","HEAD"]}`, nil, ReasonMethodNotAllowed, false, 0, nil},
		{"html 404", 404, `<html>nope</html>`, nil, ReasonNotFound, false, 0, nil},
		{"rate limit body float", 429, `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":28.70}`, map[string]string{"Retry-After": "28.70"}, ReasonUnknown, true, 28700 * time.Millisecond, nil},
		// A wait that fits is waited out, each time, until the client gives
		// up after five tries.
		{"rate limit header only", 429, `oops`, map[string]string{"Retry-After": "1.5"}, ReasonUnknown, true, 1500 * time.Millisecond,
			[]time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond}},
		{"500", 500, `{"result":"error","msg":"Internal server error"}`, nil, ReasonUnknown, true, 0, nil},
		{"502 html", 502, `<html>bad gateway</html>`, nil, ReasonUnknown, true, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			waited := instantWaits(c)
			err := c.ChangeEmailByID(context.Background(), 5, "new@example.org")
			if err == nil {
				t.Fatal("no error")
			}
			if got := waited.all(); !slices.Equal(got, tc.waits) {
				t.Errorf("waited %v, want %v", got, tc.waits)
			}
			if got := ReasonOf(err); got != tc.reason {
				t.Errorf("reason %s, want %s", got, tc.reason)
			}
			if IsTransient(err) != tc.transient {
				t.Errorf("transient = %v", IsTransient(err))
			}
			var rl *RateLimitError
			if errors.As(err, &rl) != (tc.retry != 0) || (rl != nil && rl.RetryAfter != tc.retry) {
				t.Errorf("rate limit error %v, want retry %s", rl, tc.retry)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "ann@example.org") {
				t.Errorf("error text leaks the key or the address: %v", err)
			}
		})
	}
}

func TestIgnoredNewEmailIsAFailure(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"success","msg":"","ignored_parameters_unsupported":["new_email"]}`)
	})
	err := c.ChangeEmailByID(context.Background(), 5, "new@example.org")
	if !errors.Is(err, ErrEmailIgnored) {
		t.Fatalf("err = %v, want ErrEmailIgnored", err)
	}
}

func TestMalformedSuccessIsTransient(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"succ`)
	})
	_, err := c.GetUser(context.Background(), "ann@example.org")
	if !errors.Is(err, ErrMalformedResponse) || !IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestBodyIsReadThroughALimit(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"user":{"user_id":1,"full_name":"`)
		_, _ = io.WriteString(w, strings.Repeat("x", 2*maxBodyBytes))
		_, _ = io.WriteString(w, `"}}`)
	})
	_, err := c.GetUser(context.Background(), "ann@example.org")
	if !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("an oversized body was accepted: %v", err)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: "bot@x.org", APIKey: testKey, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "ann@example.org")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an UnavailableError from the deadline", err)
	}
}

func TestCallerContextIsHonoured(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetUser(ctx, "ann@example.org"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// Every call asks the server, without credentials: remembering the answer
// is account.ZulipFacts' business, which can then forget it.
func TestServerSettingsAreReadEachTime(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/server_settings" {
			t.Errorf("path %s", r.URL.Path)
		}
		if _, _, ok := r.BasicAuth(); ok {
			t.Error("server_settings sent credentials")
		}
		calls.Add(1)
		_, _ = io.WriteString(w, `{"result":"success","msg":"","zulip_version":"10.1","zulip_feature_level":320}`)
	})
	for range 3 {
		s, err := c.ServerSettings(context.Background())
		if err != nil || s.FeatureLevel != 320 || s.Version != "10.1" {
			t.Fatalf("settings %+v, %v", s, err)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("fetched %d times, want 3", calls.Load())
	}
}

func TestMissingFeatureLevelIsZero(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"success","msg":"","zulip_version":"4.0"}`)
	})
	s, err := c.ServerSettings(context.Background())
	if err != nil || s.FeatureLevel != 0 {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestParseSiteURL(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		allowHTTP bool
		want      string // "" = refused
		wantErr   string // part of the refusal
	}{
		{"https", "https://chat.example.org", false, "https://chat.example.org", ""},
		{"https with path and slash", " https://chat.example.org/zulip/ ", false, "https://chat.example.org/zulip", ""},
		{"https with port", "https://chat.example.org:8443", false, "https://chat.example.org:8443", ""},
		{"http loopback v4 with port", "http://127.0.0.1:8065", false, "http://127.0.0.1:8065", ""},
		{"http localhost", "http://localhost", false, "http://localhost", ""},
		{"http LOCALHOST", "http://LOCALHOST:9991/", false, "http://LOCALHOST:9991", ""},
		{"http loopback v6", "http://[::1]:80", false, "http://[::1]:80", ""},
		{"http loopback v4 elsewhere in 127/8", "http://127.5.6.7", false, "http://127.5.6.7", ""},
		{"http remote refused", "http://chat.example.org", false, "", "plain http:// is allowed only for a loopback host"},
		{"http remote allowed by the setting", "http://chat.example.org", true, "http://chat.example.org", ""},
		{"http private address refused", "http://10.0.0.5:9991", false, "", "must start with https://"},
		{"http lookalike of localhost refused", "http://localhost.example.org", false, "", "must start with https://"},
		{"http 127 as a name refused", "http://127.0.0.1.nip.io", false, "", "must start with https://"},
		{"no scheme", "chat.example.org", false, "", "must start with https://"},
		{"ftp", "ftp://chat.example.org", false, "", "must start with https://"},
		{"ftp even when plain http is allowed", "ftp://chat.example.org", true, "", "must start with https://"},
		{"userinfo", "https://user:pw@chat.example.org", false, "", "credentials"},
		{"query", "https://chat.example.org/?x=1", false, "", "query"},
		{"empty query", "https://chat.example.org/?", false, "", "query"},
		{"fragment", "https://chat.example.org/#x", false, "", "fragment"},
		{"empty", "", false, "", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseSiteURL(tc.in, tc.allowHTTP)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted as %s", u)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "zulip: ") {
					t.Errorf("err = %q, want it to hold %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if u.String() != tc.want {
				t.Errorf("got %s, want %s", u, tc.want)
			}
		})
	}
	const wantText = `zulip: the site URL must start with https:// (plain http:// is allowed only for a loopback host, or with the setting "Allow plain HTTP to Zulip" on)`
	if _, err := ParseSiteURL("http://chat.example.org", false); err == nil || err.Error() != wantText {
		t.Errorf("refusal text %q", err)
	}
}

func TestNewClientUsesAllowPlainHTTP(t *testing.T) {
	cfg := Config{SiteURL: "http://chat.example.org", BotEmail: "bot@x.org", APIKey: testKey}
	if _, err := NewClient(cfg); err == nil {
		t.Error("plain http to a remote host accepted")
	}
	cfg.AllowPlainHTTP = true
	if _, err := NewClient(cfg); err != nil {
		t.Errorf("with AllowPlainHTTP: %v", err)
	}
}

func TestRedactPath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/users":                       "/api/v1/users",
		"/api/v1/users/":                      "/api/v1/users/",
		"/api/v1/users/me":                    "/api/v1/users/me",
		"/api/v1/users/123":                   "/api/v1/users/{id}",
		"/api/v1/users/ann@example.org":       "/api/v1/users/{email}",
		"/api/v1/users/12ann@example.org":     "/api/v1/users/{email}",
		"/zulip/api/v1/users/a/b@example.org": "/zulip/api/v1/users/{email}",
		"/api/v1/messages":                    "/api/v1/messages",
		"/api/v1/server_settings":             "/api/v1/server_settings",
	} {
		if got := redactPath(in); got != want {
			t.Errorf("redactPath(%q) = %q, want %q", in, got, want)
		}
	}
}
