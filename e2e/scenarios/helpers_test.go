package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// person is a user who exists in both systems under the same address.
type person struct {
	user    *model.User
	client  *model.Client4
	zulipID int
	email   string
}

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newPerson creates a Mattermost user and the matching Zulip user.
func newPerson(t *testing.T) person {
	t.Helper()
	name := randomName("u")
	email := name + "@example.org"
	u, c, err := w.Bed.CreateUser(ctxFor(t), name, email)
	if err != nil {
		t.Fatalf("creating the Mattermost user: %v", err)
	}
	zu := w.Zulip.AddUser(zuliptest.User{Email: email, FullName: name})
	return person{user: u, client: c, zulipID: zu.ID, email: email}
}

// newAddress returns a fresh address that nobody uses.
func newAddress() string { return randomName("new") + "@example.org" }

// run executes a slash command as the person and returns the reply text.
func run(t *testing.T, c *model.Client4, command string) string {
	t.Helper()
	resp, err := w.Bed.Execute(ctxFor(t), c, command)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	if resp.ResponseType != model.CommandResponseTypeEphemeral {
		t.Errorf("reply is %q, want ephemeral", resp.ResponseType)
	}
	t.Logf("%s -> %s", command, resp.Text)
	return resp.Text
}

// mmEmail reads the user's email back from the server as an admin.
func mmEmail(t *testing.T, userID string) string {
	t.Helper()
	u, _, err := w.Bed.Admin.GetUser(ctxFor(t), userID, "")
	if err != nil {
		t.Fatalf("reading user %s: %v", userID, err)
	}
	return u.Email
}

func zulipEmail(t *testing.T, id int) string {
	t.Helper()
	u, ok := w.Zulip.User(id)
	if !ok {
		t.Fatalf("Zulip user %d is gone", id)
	}
	return u.Email
}

// assertEmails checks both systems.
func assertEmails(t *testing.T, p person, wantMM, wantZulip string) {
	t.Helper()
	if got := mmEmail(t, p.user.Id); got != wantMM {
		t.Errorf("Mattermost email = %s, want %s", got, wantMM)
	}
	if got := zulipEmail(t, p.zulipID); got != wantZulip {
		t.Errorf("Zulip email = %s, want %s", got, wantZulip)
	}
}

func assertUnchanged(t *testing.T, p person) {
	t.Helper()
	assertEmails(t, p, p.email, p.email)
}

func assertContains(t *testing.T, reply string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(reply, want) {
			t.Errorf("reply lacks %q:\n%s", want, reply)
		}
	}
}

// withSettings applies plugin setting overrides for one test.
func withSettings(t *testing.T, overrides map[string]any) {
	t.Helper()
	if err := w.Configure(ctxFor(t), overrides); err != nil {
		t.Fatalf("configuring the plugin: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Configure(context.Background(), nil); err != nil {
			t.Errorf("restoring the plugin settings: %v", err)
		}
	})
}

// withServerConfig changes the server's configuration for one test.
func withServerConfig(t *testing.T, mutate, restore func(*model.Config)) {
	t.Helper()
	if err := w.Bed.UpdateConfig(ctxFor(t), mutate); err != nil {
		t.Fatalf("updating the server config: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Bed.UpdateConfig(context.Background(), restore); err != nil {
			t.Errorf("restoring the server config: %v", err)
		}
	})
}

// withFault injects a Zulip fault for one test.
func withFault(t *testing.T, f zuliptest.Fault) {
	t.Helper()
	w.Zulip.AddFault(f)
	t.Cleanup(w.Zulip.ClearFaults)
}

// withBot changes the Zulip bot for one test.
func withBot(t *testing.T, mutate func(*zuliptest.User)) {
	t.Helper()
	bot, ok := w.Zulip.UserByEmail(botEmail)
	if !ok {
		t.Fatal("the Zulip bot is missing")
	}
	orig := bot
	mutate(&bot)
	w.Zulip.UpdateUser(bot)
	t.Cleanup(func() { w.Zulip.UpdateUser(orig) })
}

// latestChange reads the caller's latest change record from the plugin's API.
func latestChange(t *testing.T, c *model.Client4) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1/me/changes/latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reading the latest change: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := decodeJSON(resp.Body, &out); err != nil {
		t.Fatalf("decoding the latest change (HTTP %d): %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("latest change: HTTP %d %v", resp.StatusCode, out)
	}
	return out
}
