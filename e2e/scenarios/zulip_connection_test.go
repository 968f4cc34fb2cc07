package scenarios

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// recordingServer is a stand-in for wherever a redirect points: it counts
// every request it gets.
type recordingServer struct {
	*httptest.Server
	n atomic.Int64
}

func (s *recordingServer) hits() int64 { return s.n.Load() }

func newRecordingServer(t *testing.T) *recordingServer {
	t.Helper()
	s := &recordingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"result":"success","msg":""}`))
	}))
	t.Cleanup(s.Close)
	return s
}

// A Zulip address that answers with a redirect is refused: the client
// never follows it (the bot's credentials would travel along), nothing
// changes in either system, and the server log tells the admin where the
// redirect pointed (scheme and host, not the path or query).
func TestZulipRedirectRefused(t *testing.T) {
	cases := []struct {
		name  string
		fault zuliptest.Fault
	}{
		{"301 on every request", zuliptest.Fault{Status: http.StatusMovedPermanently}},
		{"302 on every request", zuliptest.Fault{Status: http.StatusFound}},
		{"307 on every request", zuliptest.Fault{Status: http.StatusTemporaryRedirect}},
		{"308 on every request", zuliptest.Fault{Status: http.StatusPermanentRedirect}},
		// Redirect the change itself (307 keeps the method and the body);
		// the path is the person's, set below.
		{"307 at the change", zuliptest.Fault{Status: http.StatusTemporaryRedirect, Method: "PATCH", Times: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPerson(t)
			target := newRecordingServer(t)
			hidden := randomName("path")
			f := tc.fault
			if f.Method == "PATCH" {
				f.Path = zulipPath(p)
			}
			f.Kind = zuliptest.FaultRedirect
			f.Location = target.URL + "/" + hidden + "/api/v1/users?token=" + hidden
			withFault(t, f)

			reply := run(t, p.client, "/account email "+newAddress())

			assertContains(t, reply, "ask your system administrator", "Nothing was changed")
			assertUnchanged(t, p)
			if n := target.hits(); n != 0 {
				t.Errorf("the redirect target got %d requests, want none", n)
			}
			line, ok := waitForLogLine(t, func(l string) bool {
				return strings.HasPrefix(l, "error") && strings.Contains(l, target.URL)
			})
			if !ok {
				t.Errorf("mattermost.log has no error line naming %s", target.URL)
			} else {
				t.Logf("log: %s", line)
			}
			if file, ok := findInLogs(t, hidden); ok {
				t.Errorf("the redirect's path or query appears in %s", file)
			}
		})
	}
}

// Zulip commits the change but its answer comes after the client gave up
// (timeout 5 s, answer after 7 s). The command does not wait to settle it
// (issue 13, point 6): it answers after the one PATCH that Zulip is being
// checked, and the job reads Zulip back, ends the change done in both
// systems and tells the user by direct message.
func TestZulipAnswerLostButCommitted(t *testing.T) {
	p := newPerson(t)
	// The change itself is late.
	withFault(t, zuliptest.Fault{Kind: zuliptest.FaultLateCommit, Delay: 7 * time.Second, Method: "PATCH", Path: zulipPath(p), Times: 1})
	w.Zulip.ResetRequests()
	newEmail := newAddress()

	reply := run(t, p.client, "/account email "+newEmail)

	assertContains(t, reply, "Your Mattermost email is now `"+newEmail+"`", "Zulip did not answer clearly in time", "direct message")
	if rec := latestChange(t, p.client); rec["state"] != "mattermost_changed" && rec["state"] != "done" {
		t.Errorf("record state %v right after the reply, want mattermost_changed (or done, if the job was quick)", rec["state"])
	}
	waitForEmails(t, p, newEmail, newEmail)
	rec := waitForState(t, p.client, "done")
	assertRecord(t, rec, map[string]any{
		"user_id": p.user.Id, "old_email": p.email, "new_email": newEmail, "zulip_user_id": p.zulipID,
		"state": "done", "mattermost": "changed", "zulip": "changed",
	}, nil, "")
	waitForBotMessage(t, p, "Your email change is complete", "`"+newEmail+"` in Mattermost and in Zulip")
	for _, r := range zulipRequests(http.MethodPatch) {
		if r.Path != botPath() && r.Path != zulipPath(p) {
			t.Errorf("PATCH %s, want %s (by id)", r.Path, zulipPath(p))
		}
	}
}
