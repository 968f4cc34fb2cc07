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
	admins    map[string]bool
	listed    *model.UserGetOptions
}

func (f *fakeUsers) List(o *model.UserGetOptions) ([]*model.User, error) {
	f.listed = o
	if f.user == nil {
		return nil, nil
	}
	return []*model.User{f.user}, nil
}

func (f *fakeUsers) HasPermissionTo(userID string, p *model.Permission) bool {
	return p.Id == model.PermissionManageSystem.Id && f.admins[userID]
}

type fakeSessions map[string]*model.Session

func (f fakeSessions) Get(id string) (*model.Session, error) {
	if s, ok := f[id]; ok {
		return s, nil
	}
	return nil, pluginapi.ErrNotFound
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
			_, err := a.UpdateEmail("u1", "b@x.org")
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

func TestAdapterCarriesVerificationAndDeactivation(t *testing.T) {
	u := &model.User{Id: "u1", Username: "ann", Email: "a@x.org", EmailVerified: true, DeleteAt: 17}
	a := &mattermostAdapter{users: &fakeUsers{user: u}, config: fakeConfig{}}
	got, err := a.GetUser("u1")
	if err != nil || !got.EmailVerified || !got.Deactivated || got.Username != "ann" {
		t.Errorf("user %+v err %v", got, err)
	}
	list, err := a.ListUsers(2, 50)
	if err != nil || len(list) != 1 || list[0] != got {
		t.Errorf("list %+v err %v", list, err)
	}
	if o := a.users.(*fakeUsers).listed; o.Page != 2 || o.PerPage != 50 {
		t.Errorf("listed with %+v", o)
	}
}

func TestAdapterSessions(t *testing.T) {
	a := &mattermostAdapter{sessions: fakeSessions{
		"plain": {Id: "plain", UserId: "u1"},
		"oauth": {Id: "oauth", UserId: "u1", IsOAuth: true},
		"token": {Id: "token", UserId: "u1", Props: model.StringMap{model.SessionPropType: model.SessionTypeUserAccessToken}},
	}}
	if s, err := a.GetSession("plain"); err != nil || s.UserID != "u1" || s.IsOAuth {
		t.Errorf("plain session %+v %v", s, err)
	}
	if s, err := a.GetSession("oauth"); err != nil || !s.IsOAuth || s.IsAccessToken {
		t.Errorf("OAuth session %+v %v", s, err)
	}
	if s, err := a.GetSession("token"); err != nil || !s.IsAccessToken || s.IsOAuth {
		t.Errorf("access token session %+v %v", s, err)
	}
	if s, _ := a.GetSession("plain"); s.IsAccessToken {
		t.Errorf("plain session taken for a token: %+v", s)
	}
	if _, err := a.GetSession("gone"); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("missing session err %v", err)
	}
}

func TestAdapterAsksThePermissionAPIForAdmins(t *testing.T) {
	a := &mattermostAdapter{users: &fakeUsers{admins: map[string]bool{"boss": true}}}
	if !a.IsSystemAdmin("boss") || a.IsSystemAdmin("ann") {
		t.Error("IsSystemAdmin does not follow HasPermissionTo(manage_system)")
	}
}
