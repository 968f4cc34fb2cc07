// Command demo starts the whole test bed — PostgreSQL, an SMTP sink, a real
// Mattermost server with the plugin installed, and the Zulip emulator — runs
// one `/account email` as a normal user, shows the reply and both systems,
// and keeps everything running until Ctrl-C, which stops and removes it all.
//
//	make demo      (or: cd e2e && go run ./cmd/demo)
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	fmt.Println("Starting PostgreSQL, an SMTP sink, Mattermost with the plugin, and the Zulip emulator (the first run builds the server: a few minutes)...")
	st, err := stack.Start(ctx, os.Stderr)
	if err != nil {
		return err
	}
	bed, zs := st.Bed, st.Zulip
	bed.StopOnSignal()
	fail := func(err error) error { st.Stop(); return err }
	if err := st.Configure(ctx, map[string]any{"ZulipTimeoutSeconds": "10"}); err != nil {
		return fail(err)
	}

	const oldEmail, newEmail = "ann@example.org", "ann.new@example.org"
	ann, annClient, err := bed.CreateUser(ctx, "ann", oldEmail)
	if err != nil {
		return fail(err)
	}
	zAnn := zs.AddUser(zuliptest.User{Email: oldEmail, FullName: "Ann"})

	fmt.Printf(`
Account Sync demo is running. Everything listens on 127.0.0.1 only.

  Mattermost:     %[1]s
    admin login:  %[2]s / %[3]s
    user login:   ann / %[4]s   (email %[5]s)
  Zulip emulator: %[6]s   (bot %[7]s, owner, can_change_user_emails)
  Logs:           %[8]s

Try it yourself (as ann):
  TOKEN=$(curl -s -i -d '{"login_id":"ann","password":"%[4]s"}' %[1]s/api/v4/users/login | awk 'tolower($1)=="token:"{print $2}' | tr -d '\r')
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"channel_id":"%[9]s","team_id":"%[10]s","command":"/account help"}' %[1]s/api/v4/commands/execute
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"channel_id":"%[9]s","team_id":"%[10]s","command":"/account email ann.other@example.org"}' %[1]s/api/v4/commands/execute
  curl -s %[6]s/api/v1/server_settings

`, bed.SiteURL, bed.AdminUser.Username, bed.AdminPassword, bed.Password("ann"), oldEmail, zs.URL, stack.BotEmail, bed.LogDir, bed.Channel.Id, bed.Team.Id)

	fmt.Printf("Running `/account email %s` as ann...\n", newEmail)
	resp, err := bed.Execute(ctx, annClient, "/account email "+newEmail)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("\nReply (ephemeral):\n  %s\n\n", resp.Text)
	u, _, err := bed.Admin.GetUser(ctx, ann.Id, "")
	if err != nil {
		return fail(err)
	}
	zu, _ := zs.User(zAnn.ID)
	fmt.Printf("Now:\n  Mattermost: ann's email is %s\n  Zulip:      ann's email is %s\n\n", u.Email, zu.Email)
	fmt.Println("Press Ctrl-C to stop and remove everything.")
	select {}
}
