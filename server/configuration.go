package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// configuration is the plugin's System Console settings (plugin.json
// settings_schema). Read it only through getConfiguration(), which returns a
// snapshot that must not be changed.
type configuration struct {
	ZulipSyncEnabled        bool
	ZulipURL                string
	ZulipBotEmail           string
	ZulipAPIKey             string
	ZulipTimeoutSeconds     string
	ZulipAllowPlainHTTP     bool
	AllowOAuthSessions      bool
	MaxChangesPerUserPerDay string
	RecordRetentionDays     string
	RetryForHours           string
	AllowedDomains          string
	// MattermostChangesElsewhere: what to do with an email changed in
	// Mattermost outside Account Sync: "forward" (default) or "report".
	MattermostChangesElsewhere string
	// ZulipChangesElsewhere: what to do with an address changed in Zulip
	// outside Account Sync: "ask" the user (default) or "report".
	ZulipChangesElsewhere    string
	ReconcileIntervalMinutes string

	// Not in the System Console: for the end-to-end suite, which cannot
	// wait minutes. Empty means the defaults.
	JobIntervalSeconds string
	RetryFirstSeconds  string
	// ReconcileIntervalSeconds, when set, replaces ReconcileIntervalMinutes.
	ReconcileIntervalSeconds string
}

// Defaults of the text settings, used when one is empty or not a number.
const (
	defaultMaxChangesPerDay = 5
	defaultRetentionDays    = 90
	defaultRetryForHours    = 24
	defaultJobInterval      = time.Minute
	defaultReconcileMinutes = 15
)

// Values of the MattermostChangesElsewhere and ZulipChangesElsewhere
// settings.
const (
	mattermostChangesForward = "forward"
	zulipChangesAsk          = "ask"
	zulipChangesApply        = "apply"
	changesReport            = "report" // either setting: only the drift report
)

// Clone returns a copy (all fields are values).
func (c *configuration) Clone() *configuration {
	clone := *c
	return &clone
}

// normalize trims what an admin may have pasted with spaces.
func (c *configuration) normalize() {
	c.ZulipURL = strings.TrimSpace(c.ZulipURL)
	c.ZulipBotEmail = strings.TrimSpace(c.ZulipBotEmail)
	c.ZulipAPIKey = strings.TrimSpace(c.ZulipAPIKey)
	c.ZulipTimeoutSeconds = strings.TrimSpace(c.ZulipTimeoutSeconds)
	c.MaxChangesPerUserPerDay = strings.TrimSpace(c.MaxChangesPerUserPerDay)
	c.RecordRetentionDays = strings.TrimSpace(c.RecordRetentionDays)
	c.RetryForHours = strings.TrimSpace(c.RetryForHours)
	c.AllowedDomains = strings.TrimSpace(c.AllowedDomains)
	c.MattermostChangesElsewhere = strings.ToLower(strings.TrimSpace(c.MattermostChangesElsewhere))
	c.ZulipChangesElsewhere = strings.ToLower(strings.TrimSpace(c.ZulipChangesElsewhere))
	c.ReconcileIntervalMinutes = strings.TrimSpace(c.ReconcileIntervalMinutes)
}

// allowedDomains is the AllowedDomains setting as lower-case domains, and
// the entries that are not domains. A setting that names no domain at all
// (",,") is itself the bad entry: it must not read as "any domain". Any bad
// entry makes the service refuse every change (fail closed): a setting
// written to config.json or the database, or saved before this check,
// bypasses the System Console's check.
func (c *configuration) allowedDomains() (domains, bad []string) {
	for _, d := range strings.Split(c.AllowedDomains, ",") {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		switch {
		case d == "":
		case account.ValidDomain(d):
			domains = append(domains, d)
		default:
			bad = append(bad, d)
		}
	}
	if setting := strings.TrimSpace(c.AllowedDomains); setting != "" && len(domains) == 0 && len(bad) == 0 {
		bad = []string{setting}
	}
	return domains, bad
}

// retryFor is how long a change is retried in the background.
func (c *configuration) retryFor() time.Duration {
	n, err := strconv.Atoi(c.RetryForHours)
	if err != nil || n < 1 || n > 168 {
		n = defaultRetryForHours
	}
	return time.Duration(n) * time.Hour
}

// jobInterval is how often the job looks at open changes.
func (c *configuration) jobInterval() time.Duration {
	if n, err := strconv.Atoi(c.JobIntervalSeconds); err == nil && n >= 1 {
		return time.Duration(n) * time.Second
	}
	return defaultJobInterval
}

// reconcileInterval is how often the scan compares both systems.
func (c *configuration) reconcileInterval() time.Duration {
	if n, err := strconv.Atoi(c.ReconcileIntervalSeconds); err == nil && n >= 1 {
		return time.Duration(n) * time.Second
	}
	n, err := strconv.Atoi(c.ReconcileIntervalMinutes)
	if err != nil || n < 1 || n > 1440 {
		n = defaultReconcileMinutes
	}
	return time.Duration(n) * time.Minute
}

// reportZulipChanges: changes made in Zulip elsewhere are only reported,
// neither offered nor applied. "ask" (or no value: the default) offers,
// "apply" applies; a value not understood only reports, failing closed (it
// is also one of problems()).
func (c *configuration) reportZulipChanges() bool {
	return c.ZulipChangesElsewhere != "" && c.ZulipChangesElsewhere != zulipChangesAsk && c.ZulipChangesElsewhere != zulipChangesApply
}

// applyZulipChanges: changes made in Zulip elsewhere are applied to
// Mattermost without asking the user.
func (c *configuration) applyZulipChanges() bool { return c.ZulipChangesElsewhere == zulipChangesApply }

// reportMattermostChanges: changes made in Mattermost elsewhere are only
// reported (see reportZulipChanges for the rule).
func (c *configuration) reportMattermostChanges() bool {
	return c.MattermostChangesElsewhere != "" && c.MattermostChangesElsewhere != mattermostChangesForward
}

// retryFirst is the wait before the first background retry (0: the default).
func (c *configuration) retryFirst() time.Duration {
	if n, err := strconv.Atoi(c.RetryFirstSeconds); err == nil && n >= 1 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// maxChangesPerDay is the per-user limit; 0 means none.
func (c *configuration) maxChangesPerDay() int {
	n, err := strconv.Atoi(c.MaxChangesPerUserPerDay)
	if err != nil || n < 0 {
		return defaultMaxChangesPerDay
	}
	return n
}

// retention is how long change records are kept.
func (c *configuration) retention() time.Duration {
	n, err := strconv.Atoi(c.RecordRetentionDays)
	if err != nil || n < 1 || n > 3650 {
		n = defaultRetentionDays
	}
	return time.Duration(n) * 24 * time.Hour
}

// timeout is the per-call Zulip timeout.
func (c *configuration) timeout() time.Duration {
	n, err := strconv.Atoi(c.ZulipTimeoutSeconds)
	if err != nil || n <= 0 || n > 60 {
		return zulip.DefaultTimeout
	}
	return time.Duration(n) * time.Second
}

// problems lists settings that are not numbers where numbers are needed;
// their defaults apply meanwhile.
func (c *configuration) problems() []string {
	var out []string
	if n, err := strconv.Atoi(c.MaxChangesPerUserPerDay); c.MaxChangesPerUserPerDay != "" && (err != nil || n < 0) {
		out = append(out, fmt.Sprintf("the maximum changes per user per day must be a whole number, 0 for no limit (using %d)", defaultMaxChangesPerDay))
	}
	if n, err := strconv.Atoi(c.RecordRetentionDays); c.RecordRetentionDays != "" && (err != nil || n < 1 || n > 3650) {
		out = append(out, fmt.Sprintf("the record retention must be a number of days from 1 to 3650 (using %d)", defaultRetentionDays))
	}
	if _, bad := c.allowedDomains(); len(bad) > 0 {
		out = append(out, fmt.Sprintf("the allowed email domains must be a comma-separated list of domains such as example.org, or empty for any (until this is fixed, every email change is refused); these are not domains: %s", strings.Join(bad, ", ")))
	}
	if n, err := strconv.Atoi(c.RetryForHours); c.RetryForHours != "" && (err != nil || n < 1 || n > 168) {
		out = append(out, fmt.Sprintf("the retry time must be a number of hours from 1 to 168 (using %d)", defaultRetryForHours))
	}
	if n, err := strconv.Atoi(c.ReconcileIntervalMinutes); c.ReconcileIntervalMinutes != "" && (err != nil || n < 1 || n > 1440) {
		out = append(out, fmt.Sprintf("the scan interval must be a number of minutes from 1 to 1440 (using %d)", defaultReconcileMinutes))
	}
	switch c.MattermostChangesElsewhere {
	case "", mattermostChangesForward, changesReport:
	default:
		out = append(out, fmt.Sprintf("changes made in Mattermost elsewhere must be %q or %q (using %q until it is fixed)", mattermostChangesForward, changesReport, changesReport))
	}
	switch c.ZulipChangesElsewhere {
	case "", zulipChangesAsk, zulipChangesApply, changesReport:
	default:
		out = append(out, fmt.Sprintf("changes made in Zulip elsewhere must be %q, %q or %q (using %q until it is fixed)", zulipChangesAsk, zulipChangesApply, changesReport, changesReport))
	}
	return out
}

// validate says what an admin must fix before Zulip sync can work. The API
// key is never part of the message.
func (c *configuration) validate() error {
	if !c.ZulipSyncEnabled {
		return nil
	}
	var problems []string
	if _, err := zulip.ParseSiteURL(c.ZulipURL, c.ZulipAllowPlainHTTP); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), "zulip: "))
	}
	if c.ZulipBotEmail == "" || !strings.Contains(c.ZulipBotEmail, "@") {
		problems = append(problems, "the bot email must be the Zulip bot's address (Settings > Bots)")
	}
	if c.ZulipAPIKey == "" {
		problems = append(problems, "the bot API key is empty")
	}
	if len(problems) > 0 {
		return fmt.Errorf("zulip sync is on but not set up: %s", strings.Join(problems, "; "))
	}
	return nil
}

// zulipConfig builds the client settings from the snapshot.
func (c *configuration) zulipConfig(userAgent string) zulip.Config {
	return zulip.Config{
		SiteURL:        c.ZulipURL,
		BotEmail:       c.ZulipBotEmail,
		APIKey:         c.ZulipAPIKey,
		UserAgent:      userAgent,
		Timeout:        c.timeout(),
		AllowPlainHTTP: c.ZulipAllowPlainHTTP,
	}
}

// getConfiguration returns the active configuration snapshot.
func (p *Plugin) getConfiguration() *configuration {
	p.configurationLock.RLock()
	defer p.configurationLock.RUnlock()
	if p.configuration == nil {
		return &configuration{}
	}
	return p.configuration
}

// getZulip returns the Zulip client for the active configuration (nil when
// sync is off or not set up) and what is remembered about that Zulip.
func (p *Plugin) getZulip() (*zulip.Client, *account.ZulipFacts) {
	p.configurationLock.RLock()
	defer p.configurationLock.RUnlock()
	return p.zulipClient, p.zulipFacts
}

// setConfiguration replaces the snapshot and the client built from it.
func (p *Plugin) setConfiguration(c *configuration, zc *zulip.Client) {
	p.configurationLock.Lock()
	defer p.configurationLock.Unlock()
	p.configuration = c
	p.zulipClient = zc
	// What Zulip said about itself and the bot belongs to this connection.
	p.zulipFacts = account.NewZulipFacts(account.ZulipFactsTTL)
}

// OnConfigurationChange loads the settings and rebuilds the Zulip client.
// A setting that cannot work is logged for the admin; the command then
// explains to users that sync is not set up.
func (p *Plugin) OnConfigurationChange() error {
	if p.client == nil {
		return nil // OnActivate calls back once the client exists
	}
	c := new(configuration)
	if err := p.client.Configuration.LoadPluginConfiguration(c); err != nil {
		return fmt.Errorf("loading the plugin configuration: %w", err)
	}
	c.normalize()
	for _, problem := range c.problems() {
		p.client.Log.Error("Account Sync: " + problem)
	}

	var zc *zulip.Client
	if err := c.validate(); err != nil {
		p.client.Log.Error("Account Sync: " + err.Error())
	} else if c.ZulipSyncEnabled {
		if kept, followChanged := p.keepZulip(c); kept {
			// Mattermost calls this hook for any change of its settings:
			// the Zulip connection goes on as it was (its rate-limit
			// budget, what it knows of Zulip, the event queue).
			if f, ok := p.events.(*eventFollower); ok && followChanged {
				f.interrupt() // it stops or starts following Zulip's events
			}
			return nil
		}
		client, err := zulip.NewClient(p.metrics.observeZulip(c.zulipConfig(userAgent())))
		if err != nil {
			p.client.Log.Error("Account Sync: the Zulip settings do not work", "error", err.Error())
		} else {
			p.shareRateLimit(client)
			zc = client
		}
	}
	p.setConfiguration(c, zc)
	if f, ok := p.events.(*eventFollower); ok {
		f.interrupt() // it follows Zulip with the new client at once
	}
	return nil
}

// keepZulip takes c as the settings and keeps the Zulip client in use
// (and what is known of Zulip) when c connects to Zulip exactly as the
// settings in use do: the check and the change are one step under the
// lock. followChanged tells that c starts or stops following Zulip's
// changes (only reported, or not).
func (p *Plugin) keepZulip(c *configuration) (kept, followChanged bool) {
	p.configurationLock.Lock()
	defer p.configurationLock.Unlock()
	old := p.configuration
	if p.zulipClient == nil || old == nil || !old.ZulipSyncEnabled || connectionOf(old) != connectionOf(c) {
		return false, false
	}
	p.configuration = c
	return true, old.reportZulipChanges() != c.reportZulipChanges()
}

// zulipConnection is what of the settings makes the Zulip client.
type zulipConnection struct {
	site, bot, key string
	timeout        time.Duration
	plainHTTP      bool
}

func connectionOf(c *configuration) zulipConnection {
	z := c.zulipConfig("")
	return zulipConnection{site: z.SiteURL, bot: z.BotEmail, key: z.APIKey, timeout: z.Timeout, plainHTTP: z.AllowPlainHTTP}
}

// zulipHost is the Zulip site's host name, lower case: the realm host of
// Zulip's id-based addresses user{ID}@{host}. Empty when the URL is unusable.
func (c *configuration) zulipHost() string {
	u, err := zulip.ParseSiteURL(c.ZulipURL, true)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
