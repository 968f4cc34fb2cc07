package main

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/stretchr/testify/mock"
)

// review3Server answers UpdateUser as App.UpdateUser and SqlUserStore.Update
// of the pinned server do for an email (channels/app/user.go): with
// RequireEmailVerification the email is set back to the previous one (the
// new one waits for its link); an OAuth user's email is kept by the store;
// the answer is the stored user, sanitized with no options (the email
// stays).
func review3Server(verify bool, stored *model.User) *plugintest.API {
	api := &plugintest.API{}
	api.On("GetUser", stored.Id).Return(func(string) *model.User { u := *stored; return &u }, nil)
	api.On("UpdateUser", mock.Anything).Return(func(u *model.User) *model.User {
		prev := *stored
		if u.Email != prev.Email && verify && !u.IsBot {
			u.Email = prev.Email
		}
		if u.IsOAuthUser() {
			u.Email = prev.Email
		}
		*stored = *u
		answer := *u
		answer.Sanitize(map[string]bool{})
		return &answer
	}, nil)
	return api
}

// Held: UpdateEmail returns the server's answer through pluginapi (which
// copies the answer into the user given), so the flow tells a change held
// for verification (answer: the old email), a change kept by the server
// (OAuth: the old email, no verification), a rollback held for a link
// (answer: the new email) and a change made, exactly as the read-back did.
func TestReview3UpdateEmailReturnsTheServersAnswer(t *testing.T) {
	for _, tc := range []struct {
		name         string
		verify       bool
		auth         string
		from, to     string
		want, stored string
	}{
		{"changed", false, "", "a@x.org", "b@x.org", "b@x.org", "b@x.org"},
		{"held for verification", true, "", "a@x.org", "b@x.org", "a@x.org", "a@x.org"},
		{"rollback held for a link", true, "", "b@x.org", "a@x.org", "b@x.org", "b@x.org"},
		{"oauth kept", false, model.ServiceGitlab, "a@x.org", "b@x.org", "a@x.org", "a@x.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := &model.User{Id: "u1", Username: "ann", Email: tc.from, AuthService: tc.auth}
			api := review3Server(tc.verify, stored)
			c := pluginapi.NewClient(api, nil)
			a := &mattermostAdapter{users: &c.User, config: fakeConfig{verify: tc.verify}}
			after, err := a.UpdateEmail("u1", tc.to)
			if err != nil || after != tc.want || stored.Email != tc.stored {
				t.Errorf("answer %q (%v), stored %q; want answer %q, stored %q", after, err, stored.Email, tc.want, tc.stored)
			}
		})
	}
}
