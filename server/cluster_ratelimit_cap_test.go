package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Another node reporting a reset ten days ahead (an older version, a clock
// running ahead) holds this node back for zulip.MaxRateLimitWait at most.
func TestAClusterReportFarAheadIsCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("a request reached Zulip inside the reported rate limit")
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	cfg := configuration{ZulipSyncEnabled: true, ZulipURL: srv.URL, ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "s3cr3t-key"}
	p, _ := newTestPlugin(t, cfg)
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(zulip.RateState{Remaining: 0, Reset: time.Now().Add(10 * 24 * time.Hour)})
	p.OnPluginClusterEvent(nil, model.PluginClusterEvent{Id: rateLimitEventID, Data: data})
	zc, _ := p.getZulip()
	_, err := zc.GetUserByID(context.Background(), 10)
	var rl *zulip.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > zulip.MaxRateLimitWait {
		t.Fatalf("err = %v, want a rate-limit error of at most %s", err, zulip.MaxRateLimitWait)
	}
}
