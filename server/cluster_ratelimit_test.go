package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// One node runs into Zulip's rate limit; the event it publishes makes
// another node wait too, without sending anything to Zulip.
func TestRateLimitIsSharedAcrossTheCluster(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":30.0}`))
	}))
	defer srv.Close()
	cfg := configuration{ZulipSyncEnabled: true, ZulipURL: srv.URL, ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "s3cr3t-key"}

	first, _ := newTestPlugin(t, cfg)
	var published model.PluginClusterEvent
	first.API.(interface {
		On(string, ...any) *mock.Call
	}).On("PublishPluginClusterEvent", mock.Anything, model.PluginClusterEventSendOptions{SendType: model.PluginClusterEventSendTypeBestEffort}).
		Run(func(args mock.Arguments) { published = args.Get(0).(model.PluginClusterEvent) }).Return(nil).Once()
	if err := first.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	zc, _ := first.getZulip()
	_, err := zc.GetUserByID(context.Background(), 10)
	var rl *zulip.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want a rate-limit error", err)
	}
	var state zulip.RateState
	if published.Id != rateLimitEventID || json.Unmarshal(published.Data, &state) != nil ||
		state.Remaining != 0 || time.Until(state.Reset) < 25*time.Second || time.Until(state.Reset) > 31*time.Second {
		t.Fatalf("published %s %s, want no budget for about 30 s", published.Id, published.Data)
	}
	if strings.Contains(string(published.Data), "s3cr3t-key") {
		t.Fatalf("event data %q carries the key", published.Data)
	}

	second, _ := newTestPlugin(t, cfg)
	if err := second.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	second.OnPluginClusterEvent(nil, model.PluginClusterEvent{Id: "something else", Data: published.Data})
	second.OnPluginClusterEvent(nil, published)
	before := hits.Load()
	zc2, _ := second.getZulip()
	_, err = zc2.GetUserByID(context.Background(), 10)
	if !errors.As(err, &rl) || rl.RetryAfter < 25*time.Second {
		t.Fatalf("second node: err = %v, want to wait for the shared reset", err)
	}
	if hits.Load() != before {
		t.Fatal("the second node sent a request into a known rate limit")
	}
}
