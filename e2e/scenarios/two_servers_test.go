package scenarios

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/testbed"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// Zulip's paths the background pieces use.
const (
	zulipUsersPath    = "/api/v1/users"    // one GET per scan
	zulipRegisterPath = "/api/v1/register" // a new event queue
	zulipEventsPath   = "/api/v1/events"   // a long poll of a queue
)

// Issue 15: two Mattermost servers sharing one database and file store, as
// two nodes without a cluster licence (the plugin's KV store and its
// cluster mutex need none). The scan runs on one node at a time, one event
// queue is followed, and nothing is done twice: a change made in
// Mattermost elsewhere reaches Zulip once, a change made in Zulip is
// offered once.
//
// Every change goes through the first server: without a cluster licence
// Mattermost's own caches are not invalidated across nodes, so a user
// changed through one server may be read stale through the other. That is
// Mattermost's, not the plugin's; the test keeps clear of it.
func TestTwoServersDoEachThingOnce(t *testing.T) {
	const (
		interval = 2 * time.Second // the scan's, on both servers
		window   = 10 * interval   // over which the scans are counted
	)
	since := time.Now()
	s2 := startSecondServer(t)

	// The plugin runs on both, on one KV store: the second server's
	// plugin reads the settings and answers the commands.
	ctx := ctxFor(t)
	if err := w.Bed.WaitPluginRunning(ctx, pluginID, time.Minute); err != nil {
		t.Fatalf("the plugin on the first server: %v", err)
	}
	if err := s2.WaitPluginRunning(ctx, pluginID, time.Minute); err != nil {
		t.Fatalf("the plugin on the second server: %v", err)
	}
	help, _, err := s2.Admin.ExecuteCommandWithTeam(ctx, w.Bed.Channel.Id, w.Bed.Team.Id, "/account")
	if err != nil || !strings.Contains(help.Text, "#### Account Sync") {
		t.Fatalf("/account on the second server: %v %+v", err, help)
	}

	// The scan every 2 s on both (settings are per server without a
	// cluster); the suite's settings come back on the first at the end.
	fast := map[string]any{"ReconcileIntervalSeconds": "2"}
	withSettings(t, fast)
	configureOn(t, s2, fast)
	// Each scheduler sees the new interval when it wakes (at most 10 s).
	waitForRequests(t, zulipUsersPath, time.Now(), 2)

	t.Run("one scan per tick", func(t *testing.T) {
		from := time.Now()
		time.Sleep(window)
		to := time.Now()
		var at []time.Time
		for _, r := range w.Zulip.Requests() {
			if r.Method == http.MethodGet && r.Path == zulipUsersPath && !r.At.Before(from) && r.At.Before(to) {
				at = append(at, r.At)
			}
		}
		// A scan starts at least the interval after the last one
		// finished, wherever that ran: at most window/interval+1 of them.
		// Both nodes each on its own clock would make about twice as many.
		if most := int(window/interval) + 1; len(at) > most {
			t.Errorf("%d scans in %s with the scan every %s, want at most %d (one node per tick)", len(at), window, interval, most)
		}
		if len(at) < 3 {
			t.Errorf("%d scans in %s with the scan every %s, want several", len(at), window, interval)
		}
		// Two scans of the same tick (one per node) would come close
		// together: each is at least the interval after the one before.
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < interval/2 {
				t.Errorf("scans %d and %d read Zulip's users %s apart, want at least %s", i, i+1, gap.Round(time.Millisecond), interval)
			}
		}
		t.Logf("%d scans in %s", len(at), to.Sub(from).Round(time.Millisecond))
	})

	t.Run("a change made in Mattermost reaches Zulip once", func(t *testing.T) {
		p := newLinkedPerson(t, "u")
		from := time.Now()
		next := newAddress()
		changeEmailAsAdmin(t, p.user.Id, next) // PUT /api/v4/users/{id}/patch
		changedAt := mmUser(t, p.user.Id).UpdateAt

		waitForEmails(t, p, next, next)
		rec := waitForForward(t, p, "done")
		assertRecord(t, rec, map[string]any{
			"user_id": p.user.Id, "origin": "mattermost_elsewhere", "old_email": p.email, "new_email": next, "zulip_user_id": p.zulipID,
			"state": "done", "mattermost": "changed", "zulip": "changed",
		}, []string{"found_elsewhere", "check_zulip", "sync_zulip"}, "")
		waitForBotMessage(t, p, "outside Account Sync", "(it was `"+p.email+"`)", "changed your Zulip email to it too", "`"+next+"`")

		// More scans on either node leave it alone.
		waitForRequests(t, zulipUsersPath, time.Now(), 3)
		var patches []string
		for _, r := range requestsSince(http.MethodPatch, "", from) {
			if r.Path == zulipPath(p) {
				patches = append(patches, r.Path+" new_email="+r.Form.Get("new_email"))
			}
		}
		if want := zulipPath(p) + " new_email=" + next; len(patches) != 1 || patches[0] != want {
			t.Errorf("Zulip got %q, want one %q", patches, want)
		}
		if n := forwardRecords(t, p.user.Id); n != 1 {
			t.Errorf("%d records of forwards, want 1", n)
		}
		if again := latestChange(t, p.client); again["id"] != rec["id"] {
			t.Errorf("a later change %v after the forward %v", again["id"], rec["id"])
		}
		if n := botMessagesWith(t, p, "outside Account Sync"); n != 1 {
			t.Errorf("%d direct messages about the change, want 1", n)
		}
		// Both systems, and the link as both servers read it.
		assertEmails(t, p, next, next)
		if u := mmUser(t, p.user.Id); u.UpdateAt != changedAt {
			t.Errorf("Mattermost user updated at %d after the change at %d: the plugin touched it", u.UpdateAt, changedAt)
		}
		for _, site := range []string{w.Bed.SiteURL, s2.SiteURL} {
			if l, status := pluginGetOn(t, site, p.client.AuthToken, "/me/link"); status != http.StatusOK || l["agreed_email"] != next {
				t.Errorf("GET /me/link on %s: HTTP %d %v, want agreed_email %s", site, status, l, next)
			}
		}
	})

	t.Run("a change made in Zulip is offered once", func(t *testing.T) {
		from := time.Now()
		p, first, inZulip, _ := offeredInZulip(t)
		before := zulipUser(t, p.zulipID)

		// The event (on the node that follows them) and the scans (on
		// both) all see it; more scans pass.
		waitForRequests(t, zulipUsersPath, time.Now(), 3)
		offers := 0
		for _, post := range botPosts(t, p) {
			if len(post.Attachments()) > 0 {
				offers++
			}
		}
		if offers != 1 {
			t.Errorf("%d offers with buttons, want 1", offers)
		}
		if n := botMessagesWith(t, p, "Your Zulip email was changed to `"+inZulip+"`"); n != 1 {
			t.Errorf("offered %d times, want once: %q", n, botMessages(t, p))
		}
		// Nothing changed on either side until the user answers.
		assertEmails(t, p, first, inZulip)
		assertZulipUntouched(t, before)
		for _, r := range requestsSince(http.MethodPatch, zulipPath(p), from) {
			if f := r.Form.Get("new_email"); f != first {
				t.Errorf("Zulip got PATCH %s new_email=%s after the change in Zulip", r.Path, f)
			}
		}
		if rec := latestChange(t, p.client); rec["new_email"] != first || rec["state"] != "done" {
			t.Errorf("latest change %v, want the first one (to %s) only", rec, first)
		}
	})

	// The second server's plugin took its turns: its scheduler competes
	// for every tick (about half of the ticks in a run of this test).
	t.Run("both servers scan", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(s2.LogDir, "mattermost.log"))
		if err != nil {
			t.Fatalf("the second server's log: %v", err)
		}
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "plugin_id="+pluginID) && strings.Contains(line, "Account Sync: scan finished") {
				n++
			}
		}
		if n == 0 {
			t.Errorf("the second server ran none of the %d scans since it started", len(requestsSince(http.MethodGet, zulipUsersPath, since)))
		}
		t.Logf("the second server ran %d of the %d scans since it started", n, len(requestsSince(http.MethodGet, zulipUsersPath, since)))
	})

	t.Run("one event queue followed", func(t *testing.T) {
		// The first server has followed Zulip's events since the suite
		// began, holding the mutex; the settings saved above leave its
		// Zulip connection as it was, so it goes on with its queue. The
		// second server waits for the mutex and registers none: every poll
		// since the second server started is of one queue.
		time.Sleep(2 * time.Second) // a second node's registration would come meanwhile
		for _, r := range requestsSince(http.MethodPost, zulipRegisterPath, since) {
			t.Errorf("an event queue registered (HTTP %d) since the second server started: settings that leave Zulip's connection as it was keep the queue", r.Status)
		}
		var queues []string
		polls := requestsSince(http.MethodGet, zulipEventsPath, since)
		for _, r := range polls {
			if r.Status != http.StatusOK {
				t.Errorf("a poll of queue %s got HTTP %d", r.Form.Get("queue_id"), r.Status)
			}
			if q := r.Form.Get("queue_id"); !slices.Contains(queues, q) {
				queues = append(queues, q)
			}
		}
		if len(polls) == 0 || len(queues) != 1 {
			t.Errorf("%d polls of %d event queues since the second server started, want polls of one", len(polls), len(queues))
		}
	})
}

// startSecondServer starts a second Mattermost server on the bed's database
// and file store; it stops at the end of the test.
func startSecondServer(t *testing.T) *testbed.SecondServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s2, err := w.Bed.StartSecondServer(ctx)
	if err != nil {
		t.Fatalf("starting a second server: %v", err)
	}
	t.Cleanup(func() {
		if err := s2.Stop(); err != nil {
			t.Errorf("stopping the second server: %v", err)
		}
	})
	t.Logf("second server on %s (logs in %s)", s2.SiteURL, s2.LogDir)
	return s2
}

// configureOn sets the plugin's settings on the second server: the suite's,
// with overrides.
func configureOn(t *testing.T, s2 *testbed.SecondServer, overrides map[string]any) {
	t.Helper()
	settings := w.GoodSettings()
	for k, v := range overrides {
		settings[k] = v
	}
	if err := s2.SetPluginSettings(ctxFor(t), pluginID, settings); err != nil {
		t.Fatalf("configuring the plugin on the second server: %v", err)
	}
}

// requestsSince returns what Zulip received with method (and path, unless
// empty) from the time from on.
func requestsSince(method, path string, from time.Time) []zuliptest.Request {
	var out []zuliptest.Request
	for _, r := range w.Zulip.Requests() {
		if r.Method == method && (path == "" || r.Path == path) && !r.At.Before(from) {
			out = append(out, r)
		}
	}
	return out
}

// waitForRequests waits until Zulip got n GET requests of path from the
// time from on.
func waitForRequests(t *testing.T, path string, from time.Time, n int) {
	t.Helper()
	if !eventually(func() bool { return len(requestsSince(http.MethodGet, path, from)) >= n }) {
		t.Fatalf("after 20 s only %d GET %s, want %d", len(requestsSince(http.MethodGet, path, from)), path, n)
	}
}

// pluginGetOn is pluginGet on the server at siteURL, with a session token.
func pluginGetOn(t *testing.T, siteURL, token, path string) (map[string]any, int) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, siteURL+"/plugins/"+pluginID+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", path, siteURL, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := decodeJSON(resp.Body, &out); err != nil {
		t.Fatalf("GET %s on %s: HTTP %d, body not JSON: %v", path, siteURL, resp.StatusCode, err)
	}
	return out, resp.StatusCode
}

// botPosts returns the posts of the plugin's bot in its direct channel
// with the person.
func botPosts(t *testing.T, p person) []*model.Post {
	t.Helper()
	bot, _, err := w.Bed.Admin.GetUserByUsername(ctxFor(t), "account-sync", "")
	if err != nil {
		t.Fatalf("the plugin's bot account: %v", err)
	}
	ch, _, err := p.client.CreateDirectChannel(ctxFor(t), p.user.Id, bot.Id)
	if err != nil {
		t.Fatalf("the direct channel with the bot: %v", err)
	}
	posts, _, err := p.client.GetPostsForChannel(ctxFor(t), ch.Id, 0, 50, "", false, false)
	if err != nil {
		t.Fatalf("reading the direct channel: %v", err)
	}
	var out []*model.Post
	for _, id := range posts.Order {
		if post := posts.Posts[id]; post.UserId == bot.Id {
			out = append(out, post)
		}
	}
	return out
}
