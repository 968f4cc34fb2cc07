package zulip

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// A 429 to a request without credentials (server_settings, not paced) is
// waited out too before the request goes again (found in review: it was
// re-sent at once).
func TestUnauthenticated429IsWaitedOut(t *testing.T) {
	var waited *waitLog
	var mu sync.Mutex
	var before [][]time.Duration // the waits done before each request arrived
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		before = append(before, waited.all())
		n := len(before)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":1}`))
			return
		}
		_, _ = w.Write([]byte(`{"result":"success","msg":"","zulip_version":"10.2","zulip_feature_level":332,"realm_uri":"` + "http://" + r.Host + `"}`))
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: "bot@zulip.example.com", APIKey: testKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waited = instantWaits(c)
	if _, err := c.ServerSettings(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(before) != 2 {
		t.Fatalf("%d request(s), want 2", len(before))
	}
	if want := []time.Duration{time.Second}; len(before[0]) != 0 || !slices.Equal(before[1], want) {
		t.Fatalf("waits before each request %v, want none then %v (Retry-After: 1s)", before, want)
	}
}
