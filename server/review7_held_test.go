package main

import (
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"
)

// Review 7: what held. Every connection setting, sync off/on and settings
// that fail validation in between make a new client; readers race-free.
func review7Plugin(t *testing.T) (*Plugin, func(configuration)) {
	var mu sync.Mutex
	var load configuration
	api := &plugintest.API{}
	api.On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		mu.Lock()
		defer mu.Unlock()
		*args.Get(0).(*configuration) = load
	}).Return(nil)
	api.On("LogError", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Maybe()
	api.On("LogError", mock.Anything, mock.Anything, mock.Anything).Maybe()
	api.On("LogError", mock.Anything).Maybe()
	p := &Plugin{}
	p.SetAPI(api)
	p.client = pluginapi.NewClient(api, nil)
	return p, func(c configuration) {
		mu.Lock()
		load = c
		mu.Unlock()
		if err := p.OnConfigurationChange(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReview7EveryConnectionChangeRebuilds(t *testing.T) {
	base := configuration{ZulipSyncEnabled: true, ZulipURL: "https://chat.example.org", ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "k1"}
	for name, step := range map[string][]func(*configuration){
		"key":          {func(c *configuration) { c.ZulipAPIKey = "k2" }},
		"bot":          {func(c *configuration) { c.ZulipBotEmail = "bot2@chat.example.org" }},
		"plain http":   {func(c *configuration) { c.ZulipAllowPlainHTTP = true }},
		"site":         {func(c *configuration) { c.ZulipURL = "https://chat.example.org/x" }},
		"off then on":  {func(c *configuration) { c.ZulipSyncEnabled = false }, func(c *configuration) { c.ZulipSyncEnabled = true }},
		"invalid then": {func(c *configuration) { c.ZulipAPIKey = "" }, func(c *configuration) { c.ZulipAPIKey = "k1" }},
		"bad url then": {func(c *configuration) { c.ZulipURL = "http://chat.example.org" }, func(c *configuration) { c.ZulipURL = "https://chat.example.org" }},
	} {
		t.Run(name, func(t *testing.T) {
			p, save := review7Plugin(t)
			c := base
			save(c)
			first, firstFacts := p.getZulip()
			for _, s := range step {
				s(&c)
				save(c)
			}
			now, nowFacts := p.getZulip()
			if now == nil || now == first || nowFacts == firstFacts {
				t.Errorf("client kept (%p -> %p)", first, now)
			}
		})
	}
}

func TestReview7ReadersRace(t *testing.T) {
	p, _ := review7Plugin(t)
	a := configuration{ZulipSyncEnabled: true, ZulipURL: "https://chat.example.org", ZulipBotEmail: "bot@chat.example.org", ZulipAPIKey: "k1"}
	bb := a
	bb.MaxChangesPerUserPerDay = "7"
	cc := a
	cc.ZulipAPIKey = "k2"
	var mu sync.Mutex
	load := a
	p.API.(*plugintest.API).ExpectedCalls = nil
	p.API.(*plugintest.API).On("LoadPluginConfiguration", mock.Anything).Run(func(args mock.Arguments) {
		mu.Lock()
		defer mu.Unlock()
		*args.Get(0).(*configuration) = load
	}).Return(nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				zc, f := p.getZulip()
				_ = p.getConfiguration().ZulipAPIKey
				if zc != nil {
					_, _ = zc.Budget()
				}
				_ = f
			}
		}()
	}
	for i := 0; i < 300; i++ {
		mu.Lock()
		load = []configuration{a, bb, cc}[i%3]
		mu.Unlock()
		_ = p.OnConfigurationChange()
	}
	close(stop)
	wg.Wait()
}
