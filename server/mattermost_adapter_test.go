package main

import (
	"errors"
	"net/http"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

type fakeUsers struct {
	user      *model.User
	updateErr error
	updated   *model.User
}

func (f *fakeUsers) Get(string) (*model.User, error) {
	if f.user == nil {
		return nil, pluginapi.ErrNotFound
	}
	u := *f.user
	return &u, nil
}

func (f *fakeUsers) GetByEmail(string) (*model.User, error) { return nil, pluginapi.ErrNotFound }

func (f *fakeUsers) Update(u *model.User) error {
	f.updated = u
	return f.updateErr
}

type fakeConfig struct{ verify bool }

func (f fakeConfig) GetConfig() *model.Config {
	c := &model.Config{}
	c.SetDefaults()
	c.EmailSettings.RequireEmailVerification = model.NewPointer(f.verify)
	return c
}

func TestAdapterMapsServerErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"taken", model.NewAppError("UpdateUser", appErrEmailExists, nil, "", http.StatusBadRequest), account.ErrEmailTaken},
		{"domain", model.NewAppError("UpdateUser", appErrDomainNotAllowed, nil, "", http.StatusBadRequest), account.ErrDomainNotAllowed},
		{"guest domain", model.NewAppError("UpdateUser", appErrGuestDomainRefused, nil, "", http.StatusBadRequest), account.ErrDomainNotAllowed},
		{"other", model.NewAppError("UpdateUser", "app.user.update.finding.app_error", nil, "", http.StatusInternalServerError), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users := &fakeUsers{user: &model.User{Id: "u1", Email: "a@x.org"}, updateErr: tc.err}
			a := &mattermostAdapter{users: users, config: fakeConfig{}}
			err := a.UpdateEmail("u1", "b@x.org")
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err %v does not wrap %v", err, tc.want)
			}
			var appErr *model.AppError
			if !errors.As(err, &appErr) {
				t.Errorf("the server's error was lost: %v", err)
			}
			if users.updated.Email != "b@x.org" {
				t.Errorf("sent email %q", users.updated.Email)
			}
		})
	}
}

func TestAdapterNotFound(t *testing.T) {
	a := &mattermostAdapter{users: &fakeUsers{}, config: fakeConfig{}}
	if _, err := a.GetUser("nope"); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("GetUser err %v", err)
	}
	if _, err := a.FindUserByEmail("a@x.org"); !errors.Is(err, account.ErrUserNotFound) {
		t.Errorf("FindUserByEmail err %v", err)
	}
}

func TestAdapterReadsVerificationSetting(t *testing.T) {
	for _, v := range []bool{true, false} {
		a := &mattermostAdapter{users: &fakeUsers{}, config: fakeConfig{verify: v}}
		if a.RequiresEmailVerification() != v {
			t.Errorf("RequiresEmailVerification() != %v", v)
		}
	}
}

func TestAdapterCarriesAuthService(t *testing.T) {
	a := &mattermostAdapter{users: &fakeUsers{user: &model.User{Id: "u1", Email: "a@x.org", AuthService: model.UserAuthServiceGitlab}}, config: fakeConfig{}}
	u, err := a.GetUser("u1")
	if err != nil || u.AuthService != "gitlab" {
		t.Errorf("user %+v err %v", u, err)
	}
}
