package zulip

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type observed struct {
	endpoint string
	status   int
}

// Config.Observe hears of every request sent: its endpoint templated (no
// ids, addresses, site path, query or key), the status or 0 without an
// answer, and a duration.
func TestObserveTellsEveryRequest(t *testing.T) {
	var mu sync.Mutex
	var got []observed
	observe := func(endpoint string, status int, took time.Duration) {
		if took < 0 {
			t.Errorf("%s took %s", endpoint, took)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, observed{endpoint, status})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPatch:
			_, _ = io.WriteString(w, `{"result":"success","msg":""}`)
		case strings.HasSuffix(r.URL.Path, "/users/me"):
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":30}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"result":"error","msg":"No such user","code":"BAD_REQUEST"}`)
		}
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL + "/zulip/", BotEmail: "bot@zulip.example.com", APIKey: testKey, Timeout: 2 * time.Second, Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.ChangeEmailByID(ctx, 5, "new@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, "someone@example.org"); err == nil {
		t.Fatal("want the 404")
	}
	if _, err := c.Me(ctx); err == nil {
		t.Fatal("want the 429")
	}
	srv.Close()
	if _, err := c.ServerSettings(ctx); err == nil {
		t.Fatal("want no answer")
	}

	want := []observed{
		{"PATCH /api/v1/users/{id}", 200},
		{"GET /api/v1/users/{email}", 404},
		{"GET /api/v1/users/me", 429},
		{"GET /api/v1/server_settings", 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
	for _, o := range got {
		if strings.Contains(o.endpoint, testKey) || strings.Contains(o.endpoint, "@") || strings.Contains(o.endpoint, "zulip/") {
			t.Errorf("endpoint %q leaks a key, an address or the site's path", o.endpoint)
		}
	}
}

// Without Observe nothing is told, and requests work as before.
func TestObserveIsOptional(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"success","msg":""}`)
	})
	if c.observe != nil {
		t.Fatal("an observer by default")
	}
	if err := c.ChangeEmailByID(context.Background(), 5, "new@example.org"); err != nil {
		t.Fatal(err)
	}
}
