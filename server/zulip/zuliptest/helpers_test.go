package zuliptest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test API keys: 32 alphanumerics, like Zulip's.
const (
	ownerKey  = "OwnerBotKey0123456789abcdefghijk"
	adminKey  = "AdminBotKey0123456789abcdefghijk"
	modKey    = "ModerBotKey0123456789abcdefghijk"
	memberKey = "MembeBotKey0123456789abcdefghijk"
	guestKey  = "GuestBotKey0123456789abcdefghijk"
	nopermKey = "NoPerBotKey0123456789abcdefghijk"
	deadKey   = "DeadBotKey00123456789abcdefghijk"
)

// fixture is an organization with one bot per role and a few humans.
type fixture struct {
	srv *Server
	// bots
	owner, admin, mod, member, guest, noperm, dead User
	// humans
	ann, hidden, adminsOnly, membersOnly, modsOnly, gone User
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	f := &fixture{srv: s}
	f.owner = s.AddBot("owner-bot@example.org", ownerKey, RoleOwner, true)
	f.admin = s.AddBot("admin-bot@example.org", adminKey, RoleAdmin, true)
	f.mod = s.AddBot("mod-bot@example.org", modKey, RoleModerator, true)
	f.member = s.AddBot("member-bot@example.org", memberKey, RoleMember, true)
	f.guest = s.AddBot("guest-bot@example.org", guestKey, RoleGuest, true)
	f.noperm = s.AddBot("noperm-bot@example.org", nopermKey, RoleOwner, false)
	f.dead = s.AddUser(User{Email: "dead-bot@example.org", IsBot: true, Role: RoleOwner, APIKey: deadKey, CanChangeUserEmails: true, Deactivated: true})
	f.ann = s.AddUser(User{Email: "Ann@example.org", FullName: "Ann"})
	f.hidden = s.AddUser(User{Email: "hidden@example.org", FullName: "Hidden", EmailVisibility: VisibilityNobody})
	f.adminsOnly = s.AddUser(User{Email: "admins@example.org", FullName: "Admins only", EmailVisibility: VisibilityAdmins})
	f.membersOnly = s.AddUser(User{Email: "members@example.org", FullName: "Members only", EmailVisibility: VisibilityMembers})
	f.modsOnly = s.AddUser(User{Email: "mods@example.org", FullName: "Moderators only", EmailVisibility: VisibilityModerators})
	f.gone = s.AddUser(User{Email: "gone@example.org", FullName: "Gone", Deactivated: true})
	return f
}

// creds are basic-auth credentials; zero means none.
type creds struct{ email, key string }

func (f *fixture) as(u User) creds { return creds{u.Email, u.APIKey} }

// reply is a decoded answer.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) str(key string) string {
	s, _ := a.body[key].(string)
	return s
}

func (a answer) ignored() []string {
	var out []string
	list, _ := a.body["ignored_parameters_unsupported"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// call sends method to path (already escaped, under the server URL) with an
// optional urlencoded form.
func call(t *testing.T, s *Server, method, path string, form url.Values, c creds) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(t, req, c)
}

func send(t *testing.T, req *http.Request, c creds) answer {
	t.Helper()
	if c.email != "" || c.key != "" {
		req.SetBasicAuth(c.email, c.key)
	}
	req.Header.Set("User-Agent", "zuliptest-suite/1.0")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			a.body = nil // a malformed answer (FaultMalformed); callers look at raw
		}
	}
	return a
}

// noRedirects is the suite's client: a redirect (FaultRedirect) comes back
// as the answer.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func userPath(emailOrID string) string { return "/api/v1/users/" + url.PathEscape(emailOrID) }

func newEmailForm(addr string) url.Values { return url.Values{"new_email": {addr}} }

// fakeClock is a settable clock for rate-limit tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *fakeClock) Option { return func(s *Server) { s.now = c.Now } }
