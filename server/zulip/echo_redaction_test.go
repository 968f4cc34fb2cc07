package zulip

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A proxy's error page that echoes the Authorization header is cut to 200
// characters for the error text; the credentials are redacted first, so no
// part of them survives the cut (the error text reaches the server log).
func TestCutEchoLeavesNoPartOfTheCredentials(t *testing.T) {
	const bot = "bot@zulip.example.com"
	const key = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	basic := base64.StdEncoding.EncodeToString([]byte(bot + ":" + key))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		// A proxy's error page that echoes the request headers.
		_, _ = io.WriteString(w, strings.Repeat("-", 125)+" Authorization: "+r.Header.Get("Authorization")+" "+strings.Repeat("-", 50))
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: bot, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "ann@example.org")
	for n := len(basic); n >= 12; n-- {
		if strings.Contains(err.Error(), basic[:n]) {
			dec, _ := base64.StdEncoding.DecodeString(basic[:n/4*4])
			t.Errorf("LEAK: %d characters of the Basic credentials are in the error; they decode to %q", n, dec)
			break
		}
	}
}

// The bare key straddling the 200-character cut leaves no part behind either.
func TestCutEchoOfTheBareKey(t *testing.T) {
	const bot = "bot@zulip.example.com"
	const key = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, strings.Repeat("-", 190)+key+strings.Repeat("-", 50))
	}))
	defer srv.Close()
	c, err := NewClient(Config{SiteURL: srv.URL, BotEmail: bot, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "ann@example.org")
	if err == nil || strings.Contains(err.Error(), key[:8]) {
		t.Errorf("part of the key is in the error (or no error): %v", err != nil && strings.Contains(err.Error(), key[:8]))
	}
}
