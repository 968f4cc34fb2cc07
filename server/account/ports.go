// Package account owns the email-change flow: it validates the request,
// checks both systems before touching either, changes Mattermost, forwards
// the change to Zulip, and puts Mattermost back when Zulip refuses. It knows
// no UI and no Mattermost packages: the plugin hands it small adapters.
package account

import (
	"context"
	"errors"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// User is what the flow needs of a Mattermost account.
type User struct {
	ID          string
	Username    string
	Email       string
	AuthService string // non-empty when sign-in is managed by an identity provider
	IsBot       bool
}

// Errors a Mattermost adapter wraps so the flow can tell causes apart.
var (
	ErrUserNotFound     = errors.New("account: user not found")
	ErrEmailTaken       = errors.New("account: email already used by another account")
	ErrDomainNotAllowed = errors.New("account: email domain not allowed")
)

// Mattermost is what the flow needs of the Mattermost server.
type Mattermost interface {
	// GetUser returns the user, or an error wrapping ErrUserNotFound.
	GetUser(userID string) (User, error)
	// FindUserByEmail returns the account that uses email, or an error
	// wrapping ErrUserNotFound when none does.
	FindUserByEmail(email string) (User, error)
	// UpdateEmail asks the server to change the user's email. Errors wrap
	// ErrEmailTaken or ErrDomainNotAllowed when that is the cause.
	UpdateEmail(userID, email string) error
	// RequiresEmailVerification reports whether the server holds an email
	// change back until the new address is confirmed.
	RequiresEmailVerification() bool
	// ValidEmail applies Mattermost's own rules for an email address.
	ValidEmail(email string) bool
}

// Zulip is what the flow needs of the Zulip client (*zulip.Client).
type Zulip interface {
	ServerSettings(ctx context.Context) (zulip.ServerSettings, error)
	GetUser(ctx context.Context, email string) (zulip.User, error)
	ChangeEmail(ctx context.Context, current, newEmail string) error
}

// Recorder keeps the record of every change. Save is called at each step
// with the whole record, so a store can overwrite by ID.
type Recorder interface {
	SaveChange(ctx context.Context, c *Change) error
}

// Locker makes sure one user has one change in flight at a time, across a
// cluster. TryLock returns ok=false when a change is already running.
type Locker interface {
	TryLock(ctx context.Context, userID string) (unlock func(), ok bool, err error)
}

// Logger is the server log. Key-value pairs follow the message.
type Logger interface {
	Info(msg string, keyValuePairs ...any)
	Warn(msg string, keyValuePairs ...any)
	Error(msg string, keyValuePairs ...any)
}
