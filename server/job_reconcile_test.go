package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/pluginapi"
	"github.com/mattermost/mattermost/server/public/pluginapi/cluster"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// The scan runs at once the first time, then every interval (minutes, or
// the hidden seconds), never sleeping longer than reconcileMaxSleep so that
// a shorter interval is seen soon.
func TestReconcileJobWait(t *testing.T) {
	p, _ := newTestPlugin(t, configuration{})
	if err := p.OnConfigurationChange(); err != nil {
		t.Fatal(err)
	}
	j := &reconcileJob{p: p}
	now := time.Now()
	for _, tc := range []struct {
		name string
		last time.Time
		want time.Duration
	}{
		{"never ran", time.Time{}, 0},
		{"just ran", now, reconcileMaxSleep},
		{"14m55s ago", now.Add(-(15*time.Minute - 5*time.Second)), 5 * time.Second},
		{"15 minutes ago", now.Add(-15 * time.Minute), 0},
		{"an hour ago", now.Add(-time.Hour), 0},
	} {
		if got := j.wait(now, cluster.JobMetadata{LastFinished: tc.last}); got != tc.want {
			t.Errorf("%s: wait %s, want %s", tc.name, got, tc.want)
		}
	}
	p.setConfiguration(&configuration{ReconcileIntervalSeconds: "2"}, nil)
	if got := j.wait(now, cluster.JobMetadata{LastFinished: now}); got != 2*time.Second {
		t.Errorf("the hidden seconds setting: wait %s, want 2s", got)
	}
	p.setConfiguration(&configuration{ReconcileIntervalMinutes: "1"}, nil)
	if got := j.wait(now, cluster.JobMetadata{LastFinished: now.Add(-55 * time.Second)}); got != 5*time.Second {
		t.Errorf("a 1-minute interval 55 s after a scan: wait %s, want 5s", got)
	}
}

const forwardBotID = "botbotbotbotbotbotbotbotbo"

// forwardBed is the drift bed where bob's pair agreed on bob@example.org in
// both systems, then bob's Mattermost email was changed outside Account
// Sync to bobNew. The bot's direct messages to bob are recorded.
type forwardBed struct {
	*driftBed
	dmMu sync.Mutex
	dms  []string
}

const bobNew = "bob.new@example.org"

func newForwardBed(t *testing.T, settings configuration) *forwardBed {
	t.Helper()
	b := &forwardBed{driftBed: newDriftBed(t, false)}
	bobZ, _ := b.zulip.User(b.bobZ)
	bobZ.Email = "bob@example.org"
	b.zulip.UpdateUser(bobZ)
	b.users[bobID].Email = bobNew

	b.p.botID = forwardBotID
	b.api.On("GetDirectChannel", bobID, forwardBotID).Return(&model.Channel{Id: "dm-bob"}, nil).Maybe()
	b.api.On("CreatePost", mock.Anything).Run(func(a mock.Arguments) {
		post := a.Get(0).(*model.Post)
		if post.ChannelId != "dm-bob" || post.UserId != forwardBotID {
			t.Errorf("a post to %s by %s: %q", post.ChannelId, post.UserId, post.Message)
		}
		b.dmMu.Lock()
		defer b.dmMu.Unlock()
		b.dms = append(b.dms, post.Message)
	}).Return(&model.Post{Id: "p1"}, nil).Maybe()

	b.configure(t, settings, b.zulip.URL)
	b.zulip.ResetRequests()
	return b
}

// configure sets the plugin's settings: sync on against zulipURL, with the
// given scan settings.
func (b *forwardBed) configure(t *testing.T, settings configuration, zulipURL string) {
	t.Helper()
	cfg := settings
	cfg.ZulipSyncEnabled, cfg.ZulipURL, cfg.ZulipBotEmail, cfg.ZulipAPIKey = true, zulipURL, "sync-bot@zulip.example.com", "s3cr3t-key"
	zc, err := zulip.NewClient(cfg.zulipConfig("test"))
	if err != nil {
		t.Fatal(err)
	}
	b.p.setConfiguration(&cfg, zc)
}

func (b *forwardBed) messages() []string {
	b.dmMu.Lock()
	defer b.dmMu.Unlock()
	return append([]string(nil), b.dms...)
}

// requests counts Zulip's requests by method and path.
func (b *forwardBed) requests(method, path string) int {
	n := 0
	for _, r := range b.zulip.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// assertMattermostUntouched checks that bob still has bobNew in Mattermost
// and that the plugin never updated a Mattermost user.
func (b *forwardBed) assertMattermostUntouched(t *testing.T) {
	t.Helper()
	if got := b.email(bobID); got != bobNew {
		t.Errorf("Mattermost has %s, want %s", got, bobNew)
	}
	b.api.AssertNotCalled(t, "UpdateUser", mock.Anything)
}

// assertForwarded checks both systems, the whole record, the link and the
// one direct message after bob's change was forwarded.
func (b *forwardBed) assertForwarded(t *testing.T) {
	t.Helper()
	if got, _ := b.zulip.User(b.bobZ); got.Email != bobNew {
		t.Errorf("Zulip has %s, want %s", got.Email, bobNew)
	}
	b.assertMattermostUntouched(t)
	ch, ok, err := b.p.store.LatestChange(bobID)
	if err != nil || !ok {
		t.Fatalf("no record: %v", err)
	}
	giveUp := ch.CreatedAt.Add(24 * time.Hour) // the default retry time
	want := account.Change{ID: ch.ID, UserID: bobID, Origin: account.OriginMattermostElsewhere, OldEmail: "bob@example.org", NewEmail: bobNew,
		ZulipUserID: b.bobZ, State: account.StateDone, Mattermost: account.StatusChanged, Zulip: account.StatusChanged,
		Steps: ch.Steps, GiveUpAt: &giveUp, CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt, Version: ch.Version}
	if ch.ID == "" || ch.Attempts != 0 || ch.NextAttemptAt != nil || ch.LastError != nil || ch.GiveUpAt == nil || !ch.GiveUpAt.Equal(giveUp) || ch.RequestedBy != "" || ch.Code != "" ||
		ch.Origin != want.Origin || ch.OldEmail != want.OldEmail || ch.NewEmail != want.NewEmail || ch.ZulipUserID != want.ZulipUserID ||
		ch.State != want.State || ch.Mattermost != want.Mattermost || ch.Zulip != want.Zulip {
		t.Errorf("record %+v, want %+v", ch, want)
	}
	var steps []string
	for _, s := range ch.Steps {
		steps = append(steps, s.Name)
		if !s.OK {
			t.Errorf("step %+v failed", s)
		}
	}
	if len(steps) == 0 || steps[0] != account.StepFoundElsewhere || steps[len(steps)-1] != account.StepSyncZulip {
		t.Errorf("steps %v, want from %s to %s", steps, account.StepFoundElsewhere, account.StepSyncZulip)
	}
	if l, ok, _ := b.p.store.Link(bobID); !ok || l.AgreedEmail != bobNew || l.ZulipUserID != b.bobZ {
		t.Errorf("link %+v, want agreed on %s", l, bobNew)
	}
	if dms := b.messages(); len(dms) != 1 || !strings.Contains(dms[0], "outside Account Sync") || !strings.Contains(dms[0], bobNew) {
		t.Errorf("direct messages %q, want one about %s", dms, bobNew)
	}
	if n := b.requests(http.MethodPatch, "/api/v1/users/"+strconv.Itoa(b.bobZ)); n != 1 {
		t.Errorf("%d PATCHes of bob's Zulip account, want 1", n)
	}
}

// One scan forwards bob's change made in Mattermost elsewhere to his Zulip
// account with one read of Zulip's users; Mattermost is not touched; the
// next scan has nothing to do.
func TestReconcileJobForwardsAChangeMadeElsewhere(t *testing.T) {
	b := newForwardBed(t, configuration{})
	j := &reconcileJob{p: b.p, ctx: context.Background()}
	j.run()
	b.assertForwarded(t)
	if n := b.requests(http.MethodGet, "/api/v1/users"); n != 1 {
		t.Errorf("%d reads of Zulip's users, want 1", n)
	}
	first, _, _ := b.p.store.LatestChange(bobID)

	j.run()
	b.assertForwarded(t) // still one PATCH, one message
	if again, _, _ := b.p.store.LatestChange(bobID); again.ID != first.ID {
		t.Errorf("a second scan made change %s", again.ID)
	}
}

// MattermostChangesElsewhere "report": the scan forwards nothing and
// records nothing; the pair stays for the drift report.
func TestReconcileJobOnlyReports(t *testing.T) {
	b := newForwardBed(t, configuration{MattermostChangesElsewhere: "report"})
	(&reconcileJob{p: b.p, ctx: context.Background()}).run()
	b.p.forwardOne(bobID) // a sign-in neither

	if got, _ := b.zulip.User(b.bobZ); got.Email != "bob@example.org" {
		t.Errorf("Zulip has %s, want it untouched", got.Email)
	}
	if n := b.requests(http.MethodPatch, "/api/v1/users/"+strconv.Itoa(b.bobZ)); n != 0 {
		t.Errorf("%d PATCHes", n)
	}
	if _, ok, _ := b.p.store.LatestChange(bobID); ok {
		t.Error("a change was recorded")
	}
	if l, _, _ := b.p.store.Link(bobID); l.AgreedEmail != "bob@example.org" {
		t.Errorf("agreed address moved to %s", l.AgreedEmail)
	}
	if dms := b.messages(); len(dms) != 0 {
		t.Errorf("messages %q", dms)
	}
	b.assertMattermostUntouched(t)
	rep, f := b.p.service().Drift(context.Background(), bossID, "s-web")
	if f != nil {
		t.Fatal(f)
	}
	if rep.Counts[account.DriftMattermostChanged] != 1 {
		t.Errorf("drift counts %v, want bob as changed in Mattermost", rep.Counts)
	}
}

// A sign-in forwards the user's change at once, without waiting for Zulip:
// the hook returns while Zulip is still slow.
func TestUserHasLoggedInForwardsAtOnce(t *testing.T) {
	b := newForwardBed(t, configuration{})
	b.zulip.AddFault(zuliptest.Fault{Method: http.MethodGet, Kind: zuliptest.FaultSlow, Delay: 500 * time.Millisecond, Times: 1})

	started := time.Now()
	b.p.UserHasLoggedIn(&plugin.Context{}, &model.User{Id: bobID, Email: bobNew})
	if took := time.Since(started); took > 100*time.Millisecond {
		t.Errorf("the sign-in waited %s for Zulip", took)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(b.messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	b.assertForwarded(t)
}

// A sign-in with nothing to forward writes nothing, the user's lock
// included: an /account email right after signing in is never turned away
// as busy. In agreement (letter case aside), not linked, no agreed address.
func TestSignInWithNothingToForwardTakesNoLock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		email  string // bob's Mattermost email
		linked bool
		agreed string
	}{
		{"in agreement", "BOB@example.org", true, "bob@example.org"},
		{"not linked", bobNew, false, ""},
		{"no agreed address", bobNew, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newForwardBed(t, configuration{})
			kv := &countingKV{KV: &pluginapi.MemoryStore{}}
			b.p.store = store.New(kv)
			if tc.linked {
				if err := b.p.store.AddLink(account.Link{UserID: bobID, ZulipUserID: b.bobZ, Method: account.LinkCodeMethod, AgreedEmail: tc.agreed}); err != nil {
					t.Fatal(err)
				}
			}
			b.users[bobID].Email = tc.email
			kv.writes.Store(0)

			b.p.forwardOne(bobID)

			if n := kv.writes.Load(); n != 0 {
				t.Errorf("%d KV writes", n)
			}
			if b.requests(http.MethodPatch, "/api/v1/users/"+strconv.Itoa(b.bobZ)) != 0 || len(b.messages()) != 0 {
				t.Error("Zulip was changed or the user told")
			}
		})
	}
}

// countingKV counts the writes to the KV store.
type countingKV struct {
	store.KV
	writes atomic.Int64
}

func (c *countingKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	c.writes.Add(1)
	return c.KV.Set(key, value, options...)
}

func (c *countingKV) Delete(key string) error {
	c.writes.Add(1)
	return c.KV.Delete(key)
}

func (c *countingKV) SetAtomicWithRetries(key string, f func([]byte) (any, error)) error {
	c.writes.Add(1)
	return c.KV.SetAtomicWithRetries(key, f)
}

// On a cluster job (one node at a time), the scan runs by itself every
// interval and forwards the change; Close ends a scan in progress at once
// instead of waiting up to its deadline.
func TestReconcileScheduleRunsAndStops(t *testing.T) {
	b := newForwardBed(t, configuration{ReconcileIntervalSeconds: "1"})
	fakeKV(b.api)
	entered := make(chan struct{}, 1)
	// Zulip's user list, behind this proxy, hangs until the request ends.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/api/v1/users" {
			select {
			case entered <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		}
		b.zulip.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	job, err := b.p.scheduleReconcile()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(b.messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	b.assertForwarded(t)
	if err := job.Close(); err != nil {
		t.Fatal(err)
	}

	// Zulip's user list hangs: Close ends the scan.
	b.configure(t, configuration{ReconcileIntervalSeconds: "1"}, proxy.URL)
	job, err = b.p.scheduleReconcile()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no scan reached Zulip")
	}
	started := time.Now()
	if err := job.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("Close waited %s for the scan", took)
	}
}

// fakeKV serves the KV calls of pluginapi/cluster (its mutex and the job's
// metadata) from a map, with the atomic compare-and-set the mutex needs.
func fakeKV(api interface {
	On(string, ...any) *mock.Call
}) {
	var mu sync.Mutex
	kv := map[string][]byte{}
	api.On("KVSetWithOptions", mock.Anything, mock.Anything, mock.Anything).Return(func(key string, value []byte, o model.PluginKVSetOptions) (bool, *model.AppError) {
		mu.Lock()
		defer mu.Unlock()
		cur, exists := kv[key]
		if o.Atomic && (exists != (o.OldValue != nil) || !bytes.Equal(cur, o.OldValue)) {
			return false, nil
		}
		if value == nil {
			delete(kv, key)
		} else {
			kv[key] = append([]byte(nil), value...)
		}
		return true, nil
	})
	api.On("KVGet", mock.Anything).Return(func(key string) ([]byte, *model.AppError) {
		mu.Lock()
		defer mu.Unlock()
		return kv[key], nil
	})
}
