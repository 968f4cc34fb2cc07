package main

import (
	"errors"
	"fmt"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Mattermost's error ids the flow tells apart.
const (
	appErrEmailExists        = "app.user.save.email_exists.app_error"
	appErrDomainNotAllowed   = "api.user.update_user.accepted_domain.app_error"
	appErrGuestDomainRefused = "api.user.update_user.accepted_guest_domain.app_error"
)

// mattermostAdapter gives the flow what it needs of the server, through
// pluginapi (server-side privileges: none of the REST layer's checks run).
type mattermostAdapter struct {
	users    userService
	sessions sessionService
	config   configService
}

// userService and configService are the parts of pluginapi the adapter uses.
type userService interface {
	Get(userID string) (*model.User, error)
	GetByEmail(email string) (*model.User, error)
	List(options *model.UserGetOptions) ([]*model.User, error)
	Update(user *model.User) error
	HasPermissionTo(userID string, permission *model.Permission) bool
}

type sessionService interface {
	Get(sessionID string) (*model.Session, error)
}

type configService interface {
	GetConfig() *model.Config
}

func newMattermostAdapter(c *pluginapi.Client) *mattermostAdapter {
	return counted(&mattermostAdapter{users: &c.User, sessions: &c.Session, config: &c.Configuration}, &mattermostCalls)
}

func (a *mattermostAdapter) GetUser(userID string) (account.User, error) {
	u, err := a.users.Get(userID)
	if err != nil {
		return account.User{}, mapUserErr(err, "reading user "+userID)
	}
	return toAccountUser(u), nil
}

func (a *mattermostAdapter) FindUserByEmail(email string) (account.User, error) {
	u, err := a.users.GetByEmail(email)
	if err != nil {
		return account.User{}, mapUserErr(err, "looking up an email")
	}
	return toAccountUser(u), nil
}

func (a *mattermostAdapter) ListUsers(page, perPage int) ([]account.User, error) {
	users, err := a.users.List(&model.UserGetOptions{Page: page, PerPage: perPage})
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	out := make([]account.User, 0, len(users))
	for _, u := range users {
		out = append(out, toAccountUser(u))
	}
	return out, nil
}

// UpdateEmail changes only the email as far as the plugin API allows: it
// has no partial update, so the user is read right before the write and only
// the email is changed in what was read. A profile edit landing between the
// two calls (a few milliseconds) would be overwritten; Mattermost's own
// PatchUser has the same read-then-write shape.
func (a *mattermostAdapter) UpdateEmail(userID, email string) (string, error) {
	u, err := a.users.Get(userID)
	if err != nil {
		return "", mapUserErr(err, "reading user "+userID)
	}
	u.Email = email
	if err := a.users.Update(u); err != nil { // u becomes the server's answer
		return "", mapUserErr(err, "updating the email of "+userID)
	}
	return u.Email, nil
}

func (a *mattermostAdapter) RequiresEmailVerification() bool {
	cfg := a.config.GetConfig()
	return cfg != nil && cfg.EmailSettings.RequireEmailVerification != nil && *cfg.EmailSettings.RequireEmailVerification
}

func (a *mattermostAdapter) ValidEmail(email string) bool {
	return model.IsValidEmail(email)
}

func (a *mattermostAdapter) GetSession(sessionID string) (account.Session, error) {
	s, err := a.sessions.Get(sessionID)
	if err != nil {
		if errors.Is(err, pluginapi.ErrNotFound) {
			return account.Session{}, fmt.Errorf("reading session: %w: %w", account.ErrSessionNotFound, err)
		}
		return account.Session{}, fmt.Errorf("reading session: %w", err)
	}
	return account.Session{UserID: s.UserId, IsOAuth: s.IsOAuth, IsAccessToken: s.IsUserAccessToken()}, nil
}

// IsSystemAdmin asks the server's permission checks, not the role names.
func (a *mattermostAdapter) IsSystemAdmin(userID string) bool {
	return a.users.HasPermissionTo(userID, model.PermissionManageSystem)
}

func toAccountUser(u *model.User) account.User {
	return account.User{ID: u.Id, Username: u.Username, Email: u.Email, AuthService: u.AuthService, IsBot: u.IsBot,
		EmailVerified: u.EmailVerified, Deactivated: u.DeleteAt != 0}
}

// mapUserErr wraps err with the flow's sentinel for the causes it knows.
func mapUserErr(err error, what string) error {
	if errors.Is(err, pluginapi.ErrNotFound) {
		return fmt.Errorf("%s: %w: %w", what, account.ErrUserNotFound, err)
	}
	var appErr *model.AppError
	if errors.As(err, &appErr) {
		switch appErr.Id {
		case appErrEmailExists:
			return fmt.Errorf("%s: %w: %w", what, account.ErrEmailTaken, err)
		case appErrDomainNotAllowed, appErrGuestDomainRefused:
			return fmt.Errorf("%s: %w: %w", what, account.ErrDomainNotAllowed, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
