package account

import (
	"errors"
	"time"
)

// Time bounds of one change. The flow (checks, Mattermost, the Zulip
// PATCH) has DefaultFlowTimeout; a lost answer is settled by the job, not
// waited for. MaxDuration is the most a change can take; the per-user lock
// must outlive it by a wide margin.
const (
	DefaultFlowTimeout = 45 * time.Second
	MaxDuration        = DefaultFlowTimeout
)

// Settings are the administrator's settings and the flow's timing.
type Settings struct {
	// SyncZulip forwards changes to Zulip. When true and Zulip is nil, every
	// change is refused with CodeZulipNotConfigured.
	SyncZulip bool
	// AllowOAuth lets sessions of OAuth 2.0 apps and personal access
	// tokens change emails and links.
	AllowOAuth bool
	// AuditIsLogged: the Auditor writes every event as a log line with the
	// change's statuses, so a change that ends well is logged by it alone
	// (one call to the server, not two).
	AuditIsLogged bool
	// MaxChangesPerDay limits a user's changes over a rolling 24 hours; 0
	// means no limit. System admins are exempt.
	MaxChangesPerDay int

	// RetryFor is how long after it was asked for a change is retried in
	// the background (default DefaultRetryFor). RetryFirst and RetryMax
	// bound the backoff between tries (defaults DefaultRetryFirst and
	// DefaultRetryMax); Jitter spreads the tries (nil: none).
	RetryFor   time.Duration
	RetryFirst time.Duration
	RetryMax   time.Duration
	Jitter     func(span time.Duration) time.Duration

	// AllowedDomainsInvalid are the entries of the allowed-domains setting
	// that are not domains (the whole setting when it names none). When
	// there are any, every change is refused with CodeDomainsMisconfigured:
	// guessing what the admin meant could let in any domain.
	AllowedDomainsInvalid []string
	// AllowedDomains, when not empty, are the only domains a new address
	// may have (lower case), on top of the server's own restriction.
	AllowedDomains []string
	// ZulipHost is the Zulip site's host name: new addresses of Zulip's
	// id-based form user{ID}@{ZulipHost} are refused.
	ZulipHost string
	// ReportMattermostChanges: a change made in Mattermost elsewhere is only
	// reported (the drift report), not forwarded to Zulip.
	ReportMattermostChanges bool
	// ReportZulipChanges: a change made in Zulip elsewhere is only reported,
	// not offered to the Mattermost user.
	ReportZulipChanges bool
	// ApplyZulipChanges: a change made in Zulip elsewhere is applied to the
	// linked Mattermost account without asking the user (for organisations
	// whose Zulip is fed by their directory), instead of offered.
	ApplyZulipChanges bool

	// MigrationLockWait is how long an admin's move on a migration waits
	// for a batch to end (default migrationLockWait).
	MigrationLockWait time.Duration

	// Now and FlowTimeout are for tests; defaults are time.Now and
	// DefaultFlowTimeout.
	Now         func() time.Time
	FlowTimeout time.Duration
}

// Store is everything the flow keeps: change records, links, link codes,
// usage and the per-user lock (*store.Store).
type Store interface {
	Recorder
	Links
	LinkCodes
	Usage
	Locker
	Offers
	Migrations
}

// Deps are what the service works with. All are required, except Zulip,
// which is nil while Zulip is not set up.
type Deps struct {
	Mattermost Mattermost
	Zulip      Zulip
	Store      Store
	Notifier   Notifier
	Auditor    Auditor
	Logger     Logger
	// Facts remembers what is the same for every change (Zulip's version,
	// the bot's permission).
	Facts *ZulipFacts
	// LinkCodeText words the message that carries a link code in Zulip.
	LinkCodeText LinkCodeText
}

// options is the settings and the dependencies, by the role each plays.
type options struct {
	Settings
	Recorder   Recorder
	Links      Links
	LinkCodes  LinkCodes
	Usage      Usage
	Locker     Locker
	Offers     Offers
	Migrations Migrations
	Notifier   Notifier
	Auditor    Auditor
	Logger     Logger
	Facts      *ZulipFacts
	// LinkCodeText words the message that carries a link code in Zulip.
	LinkCodeText LinkCodeText
}

// Service owns the email-change flow and the account links. The slash
// command and the HTTP API both call it.
type Service struct {
	mm   Mattermost
	zc   Zulip
	opts options
}

// NewService wires the flow to its dependencies; it refuses a missing one.
func NewService(d Deps, set Settings) (*Service, error) {
	switch {
	case d.Mattermost == nil:
		return nil, errors.New("account: NewService needs Mattermost")
	case d.Store == nil:
		return nil, errors.New("account: NewService needs a Store")
	case d.Notifier == nil:
		return nil, errors.New("account: NewService needs a Notifier")
	case d.Auditor == nil:
		return nil, errors.New("account: NewService needs an Auditor")
	case d.Logger == nil:
		return nil, errors.New("account: NewService needs a Logger")
	case d.Facts == nil:
		return nil, errors.New("account: NewService needs ZulipFacts")
	case d.LinkCodeText == nil:
		return nil, errors.New("account: NewService needs LinkCodeText")
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.FlowTimeout <= 0 {
		set.FlowTimeout = DefaultFlowTimeout
	}
	if set.RetryFor <= 0 {
		set.RetryFor = DefaultRetryFor
	}
	if set.RetryFirst <= 0 {
		set.RetryFirst = DefaultRetryFirst
	}
	if set.RetryMax <= 0 {
		set.RetryMax = DefaultRetryMax
	}
	return &Service{mm: d.Mattermost, zc: d.Zulip, opts: options{
		Settings: set, Recorder: d.Store, Links: d.Store, LinkCodes: d.Store, Usage: d.Store, Locker: d.Store, Offers: d.Store, Migrations: d.Store,
		Notifier: d.Notifier, Auditor: d.Auditor, Logger: d.Logger, Facts: d.Facts,
		LinkCodeText: d.LinkCodeText,
	}}, nil
}

// Request asks to change a user's email: the caller's own, or, for a
// system admin, another user's.
type Request struct {
	UserID    string // whose email changes
	ActorID   string // who asks, when not the user: a system admin
	SessionID string // the asker's Mattermost session
	NewEmail  string // as typed; the flow normalises it
}

// actor is who asks.
func (r Request) actor() string {
	if r.ActorID != "" {
		return r.ActorID
	}
	return r.UserID
}

// onBehalf tells a change an admin asks for another user.
func (r Request) onBehalf() bool { return r.ActorID != "" && r.ActorID != r.UserID }

// Result is what happened. Change is always set; it is stored only once the
// flow is about to change something (refusals before that are only
// logged). Failure says why the change stopped; RollbackFailure why putting
// Mattermost back failed.
type Result struct {
	Change          Change
	Failure         *Failure
	RollbackFailure *Failure
	// Input is the address as typed (trimmed), for reports of invalid input.
	Input string
	// Open is the user's open change that stopped this one, if any.
	Open *Change
	// recorded: the outcome is logged (and stored, if it is to be) already.
	recorded bool
	// known is the Zulip account a change goes to when its checks were made
	// already, from a list read for a whole batch (a domain migration):
	// the flow then asks Zulip nothing before the change.
	known *zulipTarget
	// addrChecked is Mattermost's answer on the new address, when it was
	// read with the user's other reads (ChangeEmail): nil is free.
	addrChecked **Failure
	// linkRead is the user's link, when it was read with the user's other
	// reads (ChangeEmail, with Zulip sync on): checkZulip takes it once.
	linkRead *linkAnswer
	// agreedAhead: this request moved the link's agreed address to the
	// new address (agreeAhead), so a change that ends with Zulip changed
	// needs no second write of it.
	agreedAhead bool
}
