package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"
)

// Review 7: OnConfigurationChange checks "same connection" (sameZulip,
// under the read lock) and then, separately, stores the new settings while
// keeping the client (setConfigurationKeepZulip, under the write lock).
// Mattermost runs config listeners after releasing its config lock, so two
// OnConfigurationChange calls can overlap. Interleaving (replayed here step
// by step, as OnConfigurationChange does them):
//
//	B loads the settings (key K1), sameZulip says "same" (client C1);
//	A loads the new settings (key K2), builds C2, stores (K2, C2);
//	B stores its snapshot (K1) keeping the client in place: now C2.
//
// The snapshot says K1, the client uses K2. Before this change every store
// replaced settings and client together. When the admin then puts K1 back
// (say K2 was wrong and is revoked), sameZulip compares K1 with K1, keeps
// C2, and the replaced key K2 goes on being sent to Zulip.
func TestReview7KeepIsNotAtomicWithItsCheck(t *testing.T) {
	var (
		mu       sync.Mutex
		lastAuth string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, key, _ := r.BasicAuth()
		mu.Lock()
		lastAuth = key
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":"success","msg":"","user_id":1,"email":"bot@example.org","delivery_email":"bot@example.org"}`))
	}))
	defer srv.Close()

	base := configuration{ZulipSyncEnabled: true, ZulipURL: srv.URL, ZulipBotEmail: "bot@example.org"}
	k1, k2 := base, base
	k1.ZulipAPIKey, k2.ZulipAPIKey = "key-one", "key-two"
	var load configuration
	api := &plugintest.API{}
	api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		mu.Lock()
		defer mu.Unlock()
		*args.Get(0).(*configuration) = load
	}).Return(nil)
	p := &Plugin{}
	p.SetAPI(api)
	p.client = pluginapi.NewClient(api, nil)
	save := func(c configuration) {
		mu.Lock()
		load = c
		mu.Unlock()
		if err := p.OnConfigurationChange(); err != nil {
			t.Fatal(err)
		}
	}
	save(k1)

	// B loaded K1 while A saved K2: B's check and keep are one step, made
	// against what is in place then (K2's client), so B keeps nothing.
	b := k1
	save(k2)
	if kept, _ := p.keepZulip(&b); kept {
		t.Fatal("K1's settings kept K2's client")
	}
	if err := p.OnConfigurationChange(); err != nil { // B goes on: a client of its own
		t.Fatal(err)
	}

	// The admin puts K1 back.
	save(k1)
	zc, _ := p.getZulip()
	if zc == nil {
		t.Fatal("no client")
	}
	_, _ = zc.Me(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if lastAuth != "key-one" {
		t.Errorf("settings say key %q, the client sends %q (a key the admin replaced)", p.getConfiguration().ZulipAPIKey, lastAuth)
	}
}
