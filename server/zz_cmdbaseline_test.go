package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// Temporary: dumps replies for the command refactor's before/after diff.
func TestZZCommandBaseline(t *testing.T) {
	out := os.Getenv("CMD_BASELINE")
	if out == "" {
		t.Skip()
	}
	lines := []string{"/account", "/account help", "/account HELP", "/account help me", "/account frobnicate", "/account email", "/account email a@example.org b@example.org",
		"/account email @x", "/account EMAIL new@example.org", "/account email @bob new@example.org", "/account email @nobody new@example.org", "/account email @bob a b",
		"/account status", "/account status @bob", "/account status @nobody", "/account status x", "/account status @bob x", "/account cancel", "/account cancel x",
		"/account unlink", "/account unlink now", "/account link", "/account link a b", "/account link 123456", "/account link a@example.org",
		"/account link-all", "/account link-all unverified", "/account link-all UNVERIFIED", "/account link-all x", "/account link-all unverified x",
		"/account zulip", "/account zulip check", "/account zulip CHECK", "/account zulip x", "/account zulip check x", "/account Zulip Check"}
	f, _ := os.Create(out)
	defer f.Close()
	for _, who := range []struct{ user, session string }{{bossID, "s-web"}, {bossID, "s-oauth"}, {bossID, "s-pat"}, {bobID, "s-bob"}} {
		for _, line := range lines {
			func() {
				defer func() {
					if r := recover(); r != nil {
						fmt.Fprintf(f, "=== %s %s %s\nPANIC %v\n", who.user, who.session, line, r)
					}
				}()
				b := newAdminBed(t, false)
				b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)
				resp, appErr := b.p.ExecuteCommand(&plugin.Context{SessionId: who.session}, &model.CommandArgs{UserId: who.user, Command: line})
				fmt.Fprintf(f, "=== %s %s %s\n%v %s %s\n%s\nbob=%s\n", who.user, who.session, line, appErr, resp.ResponseType, resp.Username, resp.Text, b.email(bobID))
			}()
		}
	}
}
