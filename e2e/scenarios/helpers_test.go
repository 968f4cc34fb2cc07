package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
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

// newPerson creates a Mattermost user, its email verified, and the
// matching Zulip user: the pair the plugin links on the first change.
func newPerson(t *testing.T) person {
	t.Helper()
	name := randomName("u")
	email := name + "@example.org"
	u, c, err := w.Bed.CreateUser(ctxFor(t), name, email)
	if err != nil {
		t.Fatalf("creating the Mattermost user: %v", err)
	}
	if !u.EmailVerified {
		t.Fatalf("the new Mattermost user's email is not verified")
	}
	zu := w.Zulip.AddUser(zuliptest.User{Email: email, FullName: name})
	return person{user: u, client: c, zulipID: zu.ID, email: email}
}

// newMMUser creates a Mattermost user (email verified) with no Zulip
// account. Its username starts with prefix.
func newMMUser(t *testing.T, prefix, email string) (*model.User, *model.Client4) {
	t.Helper()
	u, c, err := w.Bed.CreateUser(ctxFor(t), randomName(prefix), email)
	if err != nil {
		t.Fatalf("creating the Mattermost user: %v", err)
	}
	return u, c
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

// pluginGet reads one of the plugin's JSON endpoints (path below
// /api/v1) as the client's user.
func pluginGet(t *testing.T, c *model.Client4, path string) (map[string]any, int) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, w.Bed.SiteURL+"/plugins/"+pluginID+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		req.Header.Set("Authorization", "Bearer "+c.AuthToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := decodeJSON(resp.Body, &out); err != nil {
		t.Fatalf("GET %s: HTTP %d, body not JSON: %v", path, resp.StatusCode, err)
	}
	return out, resp.StatusCode
}

// link reads the caller's link to a Zulip account (GET /me/link).
func link(t *testing.T, c *model.Client4) (map[string]any, int) {
	t.Helper()
	return pluginGet(t, c, "/me/link")
}

// assertLinked checks the caller's whole link record: the Zulip account, how
// the link was proven, who made it (an admin's id, or none) and when.
func assertLinked(t *testing.T, c *model.Client4, userID string, zulipID int, method, linkedBy string) {
	t.Helper()
	rec, status := link(t, c)
	if status != http.StatusOK {
		t.Errorf("GET /me/link: HTTP %d %v, want 200 (linked to Zulip user %d)", status, rec, zulipID)
		return
	}
	for k, v := range rec {
		switch k {
		case "zulip_user_id":
			if n, ok := v.(float64); !ok || int(n) != zulipID {
				t.Errorf("link zulip_user_id = %v, want %d", v, zulipID)
			}
		case "method":
			if v != method {
				t.Errorf("link method = %v, want %q", v, method)
			}
		case "linked_by":
			if v != linkedBy {
				t.Errorf("link linked_by = %v, want %q", v, linkedBy)
			}
		case "linked_at":
			s, _ := v.(string)
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || time.Since(at) > 10*time.Minute || time.Until(at) > time.Minute {
				t.Errorf("link linked_at = %v, want a time of the last minutes", v)
			}
		case "user_id":
			if v != userID {
				t.Errorf("link user_id = %v, want %s", v, userID)
			}
		case "agreed_email": // the address both systems last agreed on, when known
			if s, ok := v.(string); !ok || !strings.Contains(s, "@") {
				t.Errorf("link agreed_email = %v, want an address", v)
			}
		default:
			t.Errorf("link record has an unexpected field %q = %v", k, v)
		}
	}
	for _, k := range []string{"zulip_user_id", "method", "linked_at"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("link record lacks %q: %v", k, rec)
		}
	}
	if _, ok := rec["linked_by"]; !ok && linkedBy != "" {
		t.Errorf("link record lacks linked_by (want %s): %v", linkedBy, rec)
	}
}

// assertNotLinked checks that the caller has no link to a Zulip account.
func assertNotLinked(t *testing.T, c *model.Client4) {
	t.Helper()
	rec, status := link(t, c)
	if status != http.StatusNotFound || rec["error"] != "not_linked" {
		t.Errorf("GET /me/link: HTTP %d %v, want 404 not_linked", status, rec)
	}
}

// notLinkedTexts are what /account email says to a user without a link.
var notLinkedTexts = []string{"is not linked to a Zulip account yet", "`/account link ", "Nothing was changed"}

// mmSelf reads the client's own user. Only a user's own read shows
// EmailVerified: Mattermost clears it in every other user it returns, an
// admin's reads included.
func mmSelf(t *testing.T, c *model.Client4) *model.User {
	t.Helper()
	u, _, err := c.GetMe(ctxFor(t), "")
	if err != nil {
		t.Fatalf("reading the user's own profile: %v", err)
	}
	return u
}

// setEmailAsAdmin changes the Mattermost email of the client's user through
// the REST API as the system admin (Mattermost then marks it unverified),
// and returns the user as they see themselves.
func setEmailAsAdmin(t *testing.T, c *model.Client4, email string) *model.User {
	t.Helper()
	id := mmSelf(t, c).Id
	if _, _, err := w.Bed.Admin.PatchUser(ctxFor(t), id, &model.UserPatch{Email: model.NewPointer(email)}); err != nil {
		t.Fatalf("setting the email of %s as an admin: %v", id, err)
	}
	return mmSelf(t, c)
}

// verifyAsAdmin marks the Mattermost email of the client's user verified,
// as an admin can, and returns the user as they see themselves.
func verifyAsAdmin(t *testing.T, c *model.Client4) *model.User {
	t.Helper()
	id := mmSelf(t, c).Id
	if _, _, err := w.Bed.Admin.VerifyUserEmailWithoutToken(ctxFor(t), id); err != nil {
		t.Fatalf("verifying the email of %s as an admin: %v", id, err)
	}
	return mmSelf(t, c)
}

// zulipUser reads a Zulip account from the emulator.
func zulipUser(t *testing.T, id int) zuliptest.User {
	t.Helper()
	u, ok := w.Zulip.User(id)
	if !ok {
		t.Fatalf("Zulip user %d is gone", id)
	}
	return u
}

// assertZulipUntouched checks that a Zulip account is exactly as it was.
func assertZulipUntouched(t *testing.T, before zuliptest.User) {
	t.Helper()
	if after := zulipUser(t, before.ID); !reflect.DeepEqual(after, before) {
		t.Errorf("Zulip user %d changed:\n before %+v\n after  %+v", before.ID, redactUser(before), redactUser(after))
	}
}

// redactUser hides an API key before a user is printed.
func redactUser(u zuliptest.User) zuliptest.User {
	if u.APIKey != "" {
		u.APIKey = "[redacted]"
	}
	return u
}

// zulipRequests returns what Zulip received with the given method.
// zulipPath is the path of the person's Zulip account by id: where the
// change goes.
func zulipPath(p person) string { return "/api/v1/users/" + strconv.Itoa(p.zulipID) }

// botPath is the path of the bot's own account: where the permission check
// (a change of the bot's address to itself) goes.
func botPath() string {
	bot, _ := w.Zulip.UserByEmail(botEmail)
	return "/api/v1/users/" + strconv.Itoa(bot.ID)
}

func zulipRequests(method string) []zuliptest.Request {
	var out []zuliptest.Request
	for _, r := range w.Zulip.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// assertNoZulipChange checks that no PATCH reached Zulip since the last
// ResetRequests.
func assertNoZulipChange(t *testing.T) {
	t.Helper()
	for _, r := range zulipRequests(http.MethodPatch) {
		t.Errorf("Zulip got %s %s", r.Method, r.Path)
	}
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// linkCodeSentTo returns the one-time code in the one direct message the
// sync bot sent since the last ResetDirectMessages, checking that it went
// to exactly the Zulip user zulipID.
func linkCodeSentTo(t *testing.T, zulipID int) string {
	t.Helper()
	bot, ok := w.Zulip.UserByEmail(botEmail)
	if !ok {
		t.Fatal("the Zulip bot is missing")
	}
	msgs := w.Zulip.DirectMessages()
	if len(msgs) != 1 {
		t.Fatalf("Zulip got %d direct messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.SenderID != bot.ID || !reflect.DeepEqual(m.To, []int{zulipID}) {
		t.Fatalf("the direct message went from %d to %v, want from the bot (%d) to exactly %d", m.SenderID, m.To, bot.ID, zulipID)
	}
	codes := map[string]bool{}
	for _, c := range sixDigits.FindAllString(m.Content, -1) {
		codes[c] = true
	}
	if len(codes) != 1 {
		t.Fatalf("the direct message holds %d different 6-digit numbers, want 1:\n%s", len(codes), m.Content)
	}
	for c := range codes {
		return c
	}
	panic("unreachable")
}

// otherCode returns a 6-digit code that is not code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// linkByCode links the client's user to the Zulip account at addr through
// /account link, as a user does.
func linkByCode(t *testing.T, c *model.Client4, addr string, zulipID int) {
	t.Helper()
	w.Zulip.ResetDirectMessages()
	assertContains(t, run(t, c, "/account link "+addr), "sent a direct message with a 6-digit code")
	code := linkCodeSentTo(t, zulipID)
	assertContains(t, run(t, c, "/account link "+code), "is now linked to the Zulip account")
}

// waitForLogLine waits until a line of mattermost.log satisfies match and
// returns it ("" and false after 10 seconds: the server writes its log
// asynchronously).
func waitForLogLine(t *testing.T, match func(line string) bool) (string, bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(w.Bed.LogDir, "mattermost.log"))
		if err != nil {
			t.Fatalf("reading the server log: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if match(line) {
				return line, true
			}
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logNames reports whether a log line holds id as a whole value (key=id).
func logNames(line string, id int) bool {
	return regexp.MustCompile(`=` + strconv.Itoa(id) + `(\s|$)`).MatchString(line)
}

// assertRecord checks a whole change record: the fields in want exactly,
// the steps by name (each ok unless failed names it; nil skips them), ids
// and times present.
func assertRecord(t *testing.T, rec map[string]any, want map[string]any, steps []string, failed string) {
	t.Helper()
	for k, v := range want {
		got := rec[k]
		if n, ok := got.(float64); ok {
			got = int(n)
		}
		if got != v {
			t.Errorf("change record %s = %v, want %v", k, rec[k], v)
		}
	}
	if _, ok := want["code"]; !ok {
		if c, ok := rec["code"]; ok && c != "" {
			t.Errorf("change record has code %v, want none", c)
		}
	}
	if id, _ := rec["id"].(string); id == "" {
		t.Errorf("change record has no id: %v", rec)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := rec[k].(string); s == "" {
			t.Errorf("change record has no %s", k)
		} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			t.Errorf("change record %s = %q: %v", k, s, err)
		}
	}
	if steps == nil {
		return // the caller does not check the steps (retries add their own)
	}
	got, _ := rec["steps"].([]any)
	var names []string
	for _, s := range got {
		st, _ := s.(map[string]any)
		name, _ := st["name"].(string)
		names = append(names, name)
		if ok, _ := st["ok"].(bool); ok == (name == failed) {
			t.Errorf("change record step %v: ok = %v", st, ok)
		}
	}
	if !reflect.DeepEqual(names, steps) {
		t.Errorf("change record steps = %v, want %v", names, steps)
	}
}

// eventually polls cond every 200 ms until it holds or 20 seconds pass (the
// background job runs every second in the suite).
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return true
}

// waitForEmails waits until Mattermost and Zulip show the wanted addresses.
func waitForEmails(t *testing.T, p person, wantMM, wantZulip string) {
	t.Helper()
	if !eventually(func() bool { return mmEmail(t, p.user.Id) == wantMM && zulipEmail(t, p.zulipID) == wantZulip }) {
		t.Errorf("after 20 s: Mattermost %s, Zulip %s; want %s and %s", mmEmail(t, p.user.Id), zulipEmail(t, p.zulipID), wantMM, wantZulip)
	}
}

// waitForState waits until the user's latest change is in state.
func waitForState(t *testing.T, c *model.Client4, state string) map[string]any {
	t.Helper()
	var rec map[string]any
	if !eventually(func() bool { rec = latestChange(t, c); return rec["state"] == state }) {
		t.Errorf("after 20 s the latest change is %v, want state %s", rec["state"], state)
	}
	return rec
}

// botMessages returns the direct messages the plugin's bot sent the user,
// oldest first.
func botMessages(t *testing.T, p person) []string {
	t.Helper()
	posts := botPosts(t, p) // newest first
	out := make([]string, 0, len(posts))
	for i := len(posts) - 1; i >= 0; i-- {
		out = append(out, posts[i].Message)
	}
	return out
}

// waitForBotMessage waits for a direct message from the bot holding every
// want, and returns it.
func waitForBotMessage(t *testing.T, p person, wants ...string) string {
	t.Helper()
	var found string
	ok := eventually(func() bool {
		for _, m := range botMessages(t, p) {
			all := true
			for _, w := range wants {
				all = all && strings.Contains(m, w)
			}
			if all {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		t.Errorf("no direct message from the bot with %q; got %q", wants, botMessages(t, p))
	}
	return found
}
