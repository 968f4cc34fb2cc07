package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// benchUserAgent marks the baseline's own Zulip requests, so that the
// plugin's requests can be counted apart.
const benchUserAgent = "AccountSyncBench/1"

// op is one email change; it returns how long it took and whether it
// succeeded as a user would see it.
type op func(ctx context.Context, u *user, email string) (time.Duration, error)

// pluginOp changes the user's email the way a user does: the slash command
// through the server's commands API, with the user's own session. The
// change must be done in both systems when the reply comes.
func pluginOp(st *stack.Stack) op {
	return commandOp(st, func(reply string) bool { return strings.Contains(reply, "in Mattermost and in Zulip") })
}

// waitingPluginOp is pluginOp for the rate-limit burst: a change queued for
// later (Zulip asked to wait) is fine too; the burst checks both systems
// after.
func waitingPluginOp(st *stack.Stack) op {
	return commandOp(st, func(reply string) bool {
		return strings.Contains(reply, "in Mattermost and in Zulip") || strings.Contains(reply, "direct message")
	})
}

func commandOp(st *stack.Stack, ok func(reply string) bool) op {
	return func(ctx context.Context, u *user, email string) (time.Duration, error) {
		start := time.Now()
		resp, _, err := u.client.ExecuteCommandWithTeam(ctx, st.Bed.Channel.Id, st.Bed.Team.Id, "/account email "+email)
		d := time.Since(start)
		if err != nil {
			return d, fmt.Errorf("/account email: %w", err)
		}
		if !ok(resp.Text) {
			return d, fmt.Errorf("/account email did not go through: %s", firstLine(resp.Text))
		}
		return d, nil
	}
}

// baselineOp is what the server does without the plugin: an admin patches
// the user's email through the REST API, then the same change is sent to
// Zulip with one PATCH as the bot.
func baselineOp(st *stack.Stack) op {
	return func(ctx context.Context, u *user, email string) (time.Duration, error) {
		start := time.Now()
		if _, _, err := st.Bed.Admin.PatchUser(ctx, u.id, &model.UserPatch{Email: model.NewPointer(email)}); err != nil {
			return time.Since(start), fmt.Errorf("PUT /users/{id}/patch: %w", err)
		}
		err := zulipPatch(ctx, st, u.zulipID, email)
		return time.Since(start), err
	}
}

func zulipPatch(ctx context.Context, st *stack.Stack, zulipID int, email string) error {
	form := url.Values{"new_email": {email}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, st.Zulip.URL+"/api/v1/users/"+strconv.Itoa(zulipID), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(stack.BotEmail, st.BotKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", benchUserAgent)
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("zulip PATCH: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("zulip PATCH: %d %s", resp.StatusCode, body)
	}
	return nil
}
