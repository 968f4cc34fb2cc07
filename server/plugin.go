package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/gorilla/mux"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Plugin is Account Sync. Hooks stay short: the email-change flow lives in
// package account, reached through service().
type Plugin struct {
	plugin.MattermostPlugin

	client    *pluginapi.Client
	store     *store.Store
	router    *mux.Router
	retention io.Closer // the daily clean-up job

	// configurationLock guards configuration and zulipClient.
	configurationLock sync.RWMutex
	configuration     *configuration
	zulipClient       *zulip.Client
}

// OnActivate wires the parts and registers the slash command.
func (p *Plugin) OnActivate() error {
	p.client = pluginapi.NewClient(p.API, p.Driver)
	p.store = store.New(&p.client.KV)
	p.router = p.newRouter()
	if err := p.OnConfigurationChange(); err != nil {
		return err
	}
	if err := p.client.SlashCommand.Register(newCommand()); err != nil {
		return fmt.Errorf("registering /%s: %w", commandTrigger, err)
	}
	job, err := p.scheduleRetention()
	if err != nil {
		return fmt.Errorf("scheduling the record clean-up: %w", err)
	}
	p.retention = job
	return nil
}

// OnDeactivate stops the background job.
func (p *Plugin) OnDeactivate() error {
	if p.retention != nil {
		return p.retention.Close()
	}
	return nil
}

// service returns the email-change flow for the current configuration.
func (p *Plugin) service() *account.Service {
	cfg := p.getConfiguration()
	var zc account.Zulip
	if client := p.getZulip(); client != nil {
		zc = client
	}
	return account.NewService(newMattermostAdapter(p.client), zc, account.Options{
		SyncZulip:        cfg.ZulipSyncEnabled,
		AllowOAuth:       cfg.AllowOAuthSessions,
		MaxChangesPerDay: cfg.maxChangesPerDay(),
		Recorder:         p.store,
		Locker:           p.store,
		Bindings:         p.store,
		LinkCodes:        p.store,
		Usage:            p.store,
		Logger:           &p.client.Log,
	})
}

// ServeHTTP hands plugin HTTP requests to the router.
func (p *Plugin) ServeHTTP(_ *plugin.Context, w http.ResponseWriter, r *http.Request) {
	p.router.ServeHTTP(w, r)
}
