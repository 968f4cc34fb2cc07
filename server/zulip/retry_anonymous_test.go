package zulip

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A 429 to a request without credentials (server_settings, not paced) is
// waited out too before the request goes again (found in review: it was
// re-sent at once).
func TestUnauthenticated429IsWaitedOut(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
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
	_, _ = c.ServerSettings(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(at) < 2 {
		t.Fatalf("only %d request(s)", len(at))
	}
	if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
		t.Fatalf("retry sent %v after a 429 with Retry-After: 1s", gap)
	}
}
