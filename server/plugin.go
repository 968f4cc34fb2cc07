package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/gorilla/mux"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
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
	sync      io.Closer // carries open changes on
	reconcile io.Closer // the scan: forwards changes made elsewhere
	events    io.Closer // follows Zulip's events on one node
	migration io.Closer // carries a domain migration on
	botID     string
	auditor   *auditor
	metrics   *metrics // served by ServeMetrics

	// configurationLock guards configuration and zulipClient.
	configurationLock sync.RWMutex
	configuration     *configuration
	zulipClient       *zulip.Client
	zulipFacts        *account.ZulipFacts
}

// OnActivate wires the parts and registers the slash command.
func (p *Plugin) OnActivate() error {
	p.client = pluginapi.NewClient(p.API, p.Driver)
	p.store = store.New(countedKV{KV: &p.client.KV, c: &kvCalls})
	p.metrics = newMetrics(p.store.OpenChanges, p.zulipBudget, &p.client.Log)
	p.router = p.newRouter()
	p.auditor = newAuditor(&p.client.Log, p.API.GetServerVersion(), p.API.LogAuditRec)
	if err := p.OnConfigurationChange(); err != nil {
		return err
	}
	botID, err := p.ensureBot()
	if err != nil {
		return err
	}
	p.botID = botID
	if err := p.client.SlashCommand.Register(newCommand()); err != nil {
		return fmt.Errorf("registering /%s: %w", commandTrigger, err)
	}
	job, err := p.scheduleRetention()
	if err != nil {
		return fmt.Errorf("scheduling the record clean-up: %w", err)
	}
	p.retention = job
	if p.sync, err = p.scheduleSync(); err != nil {
		return fmt.Errorf("scheduling the background job: %w", err)
	}
	if p.reconcile, err = p.scheduleReconcile(); err != nil {
		return fmt.Errorf("scheduling the scan: %w", err)
	}
	if p.events, err = p.followZulipEvents(); err != nil {
		return fmt.Errorf("following Zulip's events: %w", err)
	}
	if p.migration, err = p.scheduleMigration(); err != nil {
		return fmt.Errorf("scheduling domain migrations: %w", err)
	}
	return nil
}

// OnDeactivate stops the background jobs. A change in the middle of a run
// is finished by the next run, here or on another node.
func (p *Plugin) OnDeactivate() error {
	var errs []error
	for _, j := range []io.Closer{p.migration, p.events, p.reconcile, p.sync, p.retention} {
		if j != nil {
			errs = append(errs, j.Close())
		}
	}
	return errors.Join(errs...)
}

// service returns the email-change flow for the current configuration.
func (p *Plugin) service() *account.Service {
	cfg := p.getConfiguration()
	domains, badDomains := cfg.allowedDomains()
	var zc account.Zulip
	client, facts := p.getZulip()
	if client != nil {
		zc = client
	}
	if facts == nil {
		facts = account.NewZulipFacts(account.ZulipFactsTTL)
	}
	svc, err := account.NewService(account.Deps{
		Mattermost: newMattermostAdapter(p.client),
		Zulip:      zc,
		Store:      p.store,
		Notifier:   p.notifier(),
		Auditor:    p.auditorOrNone(),
		Logger:     countedLog{Logger: &p.client.Log, c: &mattermostCalls},
		Facts:      facts,
		// The link code's message in Zulip is worded at the edge.
		LinkCodeText: reply.LinkCodeMessage,
	}, account.Settings{
		SyncZulip:        cfg.ZulipSyncEnabled,
		AllowOAuth:       cfg.AllowOAuthSessions,
		AuditIsLogged:    p.auditor != nil, // its log line is the change's
		MaxChangesPerDay: cfg.maxChangesPerDay(),
		RetryFor:         cfg.retryFor(),
		RetryFirst:       cfg.retryFirst(),
		Jitter:           account.RandomJitter,
		AllowedDomains:   domains,
		ZulipHost:        cfg.zulipHost(),
		// An allowed-domains setting that cannot be used refuses every change.
		AllowedDomainsInvalid:   badDomains,
		ReportMattermostChanges: cfg.reportMattermostChanges(),
		ReportZulipChanges:      cfg.reportZulipChanges(),
		ApplyZulipChanges:       cfg.applyZulipChanges(),
	})
	if err != nil {
		panic(fmt.Sprintf("Account Sync: wiring the email-change flow: %v", err)) // every dependency is set above
	}
	return svc
}

// auditorOrNone is the auditor, or one that records nothing before
// activation.
func (p *Plugin) auditorOrNone() account.Auditor {
	if p.auditor == nil {
		return noAuditor{}
	}
	return p.metrics.countChanges(p.auditor)
}

// noAuditor records nothing.
type noAuditor struct{}

func (noAuditor) Audit(account.AuditEvent) {}

// notifier returns the bot's direct messages; before activation, when
// there is no bot yet, sending fails and the flow logs it.
func (p *Plugin) notifier() account.Notifier {
	if p.botID == "" {
		return noBot{}
	}
	return &botNotifier{client: p.client, botID: p.botID}
}

// noBot is the notifier before the bot exists.
type noBot struct{}

func (noBot) Notify(string, account.Notice) error {
	return errors.New("the Account Sync bot is not set up yet")
}

// UserHasLoggedIn forwards the user's email at once if it was changed in
// Mattermost elsewhere: SSO and LDAP sign-ins bring the directory's
// address. It runs apart from the sign-in, which never waits for Zulip.
func (p *Plugin) UserHasLoggedIn(_ *plugin.Context, user *model.User) {
	if user == nil || user.IsBot {
		return
	}
	go p.forwardOne(user.Id)
}

// ServeHTTP hands plugin HTTP requests to the router.
func (p *Plugin) ServeHTTP(c *plugin.Context, w http.ResponseWriter, r *http.Request) {
	p.router.ServeHTTP(w, withSession(c, r))
}
