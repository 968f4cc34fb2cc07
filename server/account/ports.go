// Package account owns the email-change flow: it validates the request,
// checks who is asking and which Zulip account is theirs, checks both
// systems before touching either, changes Mattermost, forwards the change to
// Zulip, and puts Mattermost back when Zulip refuses. It also owns the
// link between a Mattermost account and a Zulip account. It knows no UI
// and no Mattermost packages: the plugin hands it small adapters. It
// returns states, codes and safe facts, never texts: package reply words
// them at the edge.
package account

import (
	"context"
	"errors"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// User is what the flow needs of a Mattermost account.
type User struct {
	ID            string
	Username      string
	Email         string
	AuthService   string // non-empty when sign-in is managed by an identity provider
	IsBot         bool
	EmailVerified bool // Mattermost clears it whenever the email changes
	Deactivated   bool
}

// Session is what the flow needs of the caller's Mattermost session.
type Session struct {
	UserID        string
	IsOAuth       bool // created by an OAuth 2.0 app
	IsAccessToken bool // a personal access token's session
}

// Errors the adapters wrap so the flow can tell causes apart.
var (
	ErrUserNotFound     = errors.New("account: user not found")
	ErrEmailTaken       = errors.New("account: email already used by another account")
	ErrDomainNotAllowed = errors.New("account: email domain not allowed")
	ErrSessionNotFound  = errors.New("account: session not found")
	// ErrAlreadyLinked is returned by Links.AddLink when the Mattermost user
	// or the Zulip account is linked already.
	ErrAlreadyLinked = errors.New("account: already linked")
)

// Mattermost is what the flow needs of the Mattermost server.
type Mattermost interface {
	// GetUser returns the user, or an error wrapping ErrUserNotFound.
	GetUser(userID string) (User, error)
	// FindUserByEmail returns the account that uses email, or an error
	// wrapping ErrUserNotFound when none does.
	FindUserByEmail(email string) (User, error)
	// ListUsers returns one page of every account, deactivated ones included.
	ListUsers(page, perPage int) ([]User, error)
	// UpdateEmail asks the server to change the user's email and returns
	// the email the server answered with (the old one while the new one
	// waits for its confirmation link). Errors wrap ErrEmailTaken or
	// ErrDomainNotAllowed when that is the cause.
	UpdateEmail(userID, email string) (after string, err error)
	// RequiresEmailVerification reports whether the server holds an email
	// change back until the new address is confirmed.
	RequiresEmailVerification() bool
	// ValidEmail applies Mattermost's own rules for an email address.
	ValidEmail(email string) bool
	// GetSession returns the session, or an error wrapping ErrSessionNotFound.
	GetSession(sessionID string) (Session, error)
	// IsSystemAdmin reports whether the user may manage the system, by the
	// server's permission checks.
	IsSystemAdmin(userID string) bool
}

// Zulip is what the flow needs of the Zulip client (*zulip.Client).
type Zulip interface {
	ServerSettings(ctx context.Context) (zulip.ServerSettings, error)
	GetUser(ctx context.Context, email string) (zulip.User, error)
	GetUserByID(ctx context.Context, id int) (zulip.User, error)
	Users(ctx context.Context) ([]zulip.User, error)
	ChangeEmailByID(ctx context.Context, id int, newEmail string) error
	SendDirectMessage(ctx context.Context, userID int, content string) (int, error)
	Me(ctx context.Context) (zulip.User, error)
}

// Recorder keeps the record of every change and an index of the open ones.
type Recorder interface {
	// SaveChange writes the whole record with compare-and-set: it succeeds
	// only when the stored version is c.Version (none stored for a new
	// record), then increments c.Version. Otherwise it fails with an error
	// wrapping ErrConflict and stores nothing. Open changes are kept in the
	// index, others are removed from it.
	SaveChange(ctx context.Context, c *Change) error
	// GetChange reads one record; ok is false when there is none.
	GetChange(id string) (c Change, ok bool, err error)
	// LatestChange returns the user's most recent change, if any.
	LatestChange(userID string) (c Change, ok bool, err error)
	// ListChanges returns one page of the records, newest first, only
	// those in state when it is not empty.
	ListChanges(state State, page, perPage int) ([]Change, error)
	// OpenChanges lists the index of open changes.
	OpenChanges() ([]OpenChange, error)
	// DropOpen removes an index entry whose record is gone (a save cut
	// short between the index and the record).
	DropOpen(e OpenChange) error
}

// OpenChange is one entry of the index of open changes.
type OpenChange struct {
	ID            string     `json:"id"`
	UserID        string     `json:"user_id"`
	State         State      `json:"state"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
	CreatedAt     time.Time  `json:"created_at,omitzero"` // where it is in the index by day
}

// ErrConflict is returned by Recorder.SaveChange when another writer saved
// the record first.
var ErrConflict = errors.New("account: the change record was updated by someone else")

// Notifier tells a user something outside the command's reply: a direct
// message from the plugin's bot, which words the notice.
type Notifier interface {
	Notify(userID string, n Notice) error
}

// Locker makes sure one user has one change in flight at a time, across a
// cluster. TryLock returns ok=false when a change is already running; unlock
// releases only this holder's lock.
type Locker interface {
	TryLock(ctx context.Context, userID string) (unlock func(), ok bool, err error)
}

// Links keeps which Zulip account belongs to which Mattermost account.
type Links interface {
	// Link returns the user's link; ok is false when there is none.
	Link(userID string) (b Link, ok bool, err error)
	// AddLink stores b, atomically: it fails with an error wrapping
	// ErrAlreadyLinked when the user or the Zulip account is linked already.
	AddLink(b Link) error
	// RemoveLink removes the user's link and returns it; ok is false when
	// there was none.
	RemoveLink(userID string) (b Link, ok bool, err error)
	// Unlinked tells whether the user ever removed a link: the scan does
	// not link them again by itself.
	Unlinked(userID string) (bool, error)
	// LinkOfZulip returns the link of a Zulip account (its user's, when
	// that user is still linked to it); ok is false when there is none.
	LinkOfZulip(zulipUserID int) (b Link, ok bool, err error)
	// SetAgreedEmail sets the user's link's agreed address, with
	// compare-and-set, if the link still goes to zulipUserID (else it does
	// nothing), and returns the address agreed before; matched is false
	// when there is no such link, or it could not be read (before and
	// matched stand when the read went through and the write failed).
	SetAgreedEmail(userID string, zulipUserID int, email string) (before string, matched bool, err error)
}

// LinkCodes keeps the one-time codes of /account link, one per user, and
// counts the codes sent, apart from the codes so that linking never resets
// the count.
type LinkCodes interface {
	LinkCode(userID string) (c LinkCode, ok bool, err error)
	SaveLinkCode(userID string, c LinkCode) error
	DeleteLinkCode(userID string) error
	// CodesSent returns when codes were sent for the user (read and
	// written under the user's lock).
	CodesSent(userID string) ([]time.Time, error)
	SaveCodesSent(userID string, sent []time.Time) error
	// UpdateZulipCodesSent changes, atomically (compare-and-set), when
	// codes were sent to the Zulip account, whoever asked: update gets the
	// stored times and returns the new ones, or save=false to store nothing.
	UpdateZulipCodesSent(zulipUserID int, update func(sent []time.Time) (next []time.Time, save bool)) error
}

// Usage counts what a user did, for the limits. It is read and written under
// the user's lock.
type Usage interface {
	Usage(userID string) (UserUsage, error)
	SaveUsage(userID string, u UserUsage) error
}

// UserUsage is what counts against a user's limits.
type UserUsage struct {
	// Changes are the times of changes that changed something or wait on a
	// verification link.
	Changes []time.Time `json:"changes,omitempty"`
	// Attempts are the times of requests that reached Zulip's checks.
	Attempts []time.Time `json:"attempts,omitempty"`
}

// Auditor records every request to change an email and its outcome.
type Auditor interface {
	Audit(e AuditEvent)
}

// AuditEvent is one audited request or outcome. It holds addresses and
// ids, never credentials.
type AuditEvent struct {
	ChangeID string
	ActorID  string // who asked
	UserID   string // whose email
	OldEmail string
	NewEmail string
	Outcome  string // the change's state ("refused" for refusals)
	Origin   string // where the change was made, when not through Account Sync
	Code     Code   // why it stopped or waits, if it did
	Success  bool   // done, or on its way (waiting, pending)
	// Where each system stands, and the job's tries, when the change is
	// recorded (empty for a refusal).
	Mattermost, Zulip SystemStatus
	Attempts          int
	NextAttemptAt     *time.Time
}

// Logger is the server log. Key-value pairs follow the message.
type Logger interface {
	Info(msg string, keyValuePairs ...any)
	Warn(msg string, keyValuePairs ...any)
	Error(msg string, keyValuePairs ...any)
}
