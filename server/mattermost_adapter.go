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
	users  userService
	config configService
}

// userService and configService are the parts of pluginapi the adapter uses.
type userService interface {
	Get(userID string) (*model.User, error)
	GetByEmail(email string) (*model.User, error)
	Update(user *model.User) error
}

type configService interface {
	GetConfig() *model.Config
}

func newMattermostAdapter(c *pluginapi.Client) *mattermostAdapter {
	return &mattermostAdapter{users: &c.User, config: &c.Configuration}
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

func (a *mattermostAdapter) UpdateEmail(userID, email string) error {
	u, err := a.users.Get(userID)
	if err != nil {
		return mapUserErr(err, "reading user "+userID)
	}
	u.Email = email
	if err := a.users.Update(u); err != nil {
		return mapUserErr(err, "updating the email of "+userID)
	}
	return nil
}

func (a *mattermostAdapter) RequiresEmailVerification() bool {
	cfg := a.config.GetConfig()
	return cfg != nil && cfg.EmailSettings.RequireEmailVerification != nil && *cfg.EmailSettings.RequireEmailVerification
}

func (a *mattermostAdapter) ValidEmail(email string) bool {
	return model.IsValidEmail(email)
}

func toAccountUser(u *model.User) account.User {
	return account.User{ID: u.Id, Username: u.Username, Email: u.Email, AuthService: u.AuthService, IsBot: u.IsBot}
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
