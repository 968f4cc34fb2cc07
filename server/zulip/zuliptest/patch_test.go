package zuliptest

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// patchCase is one row of CONTRACT.md's table of checks.
type patchCase struct {
	name    string
	opts    []Option
	setup   func(t *testing.T, f *fixture)
	as      func(f *fixture) creds
	target  func(f *fixture) string
	form    url.Values
	status  int
	code    string // "" = success, or no code (405)
	msg     string
	changed func(f *fixture) (id int, email string) // user expected to hold email afterwards
	// noCreds marks requests sent without credentials, which the spec
	// calls invalid.
	noCreds bool
}

// TestPatchUserByEmailContract walks CONTRACT.md's table of checks, in order.
func TestPatchUserByEmailContract(t *testing.T) {
	for _, c := range patchCases() {
		t.Run(c.name, func(t *testing.T) { runPatchCase(t, c) })
	}
}

func patchCases() []patchCase {
	type tc = patchCase
	owner := func(f *fixture) creds { return f.as(f.owner) }
	ann := func(f *fixture) string { return f.ann.Email }
	annUnchanged := func(f *fixture) (int, string) { return f.ann.ID, "Ann@example.org" }
	cases := []tc{
		// 0: the route. Django matches the decoded path, so the %2F of an
		// address holding "/" splits it: no route, 404, before anything else.
		{name: "0 an address with a slash has no route", as: owner, setup: func(t *testing.T, f *fixture) {
			f.srv.UpdateUser(User{ID: f.ann.ID, Email: "a+b/c@example.org", FullName: "Ann"})
		}, target: func(*fixture) string { return "a+b/c@example.org" }, form: newEmailForm("ann.new@example.org"),
			status: 404, code: CodeBadRequest, msg: MsgNotFound,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "a+b/c@example.org" }},
		// 1: method exists
		{name: "1 feature level 312 has no PATCH", opts: []Option{WithFeatureLevel(312)}, as: owner, target: ann,
			form: newEmailForm("new@example.org"), status: 405, msg: MsgMethodNotAllowed, changed: annUnchanged},
		{name: "1 405 comes before authentication", opts: []Option{WithFeatureLevel(200)}, as: func(*fixture) creds { return creds{} },
			target: ann, form: newEmailForm("new@example.org"), status: 405, msg: MsgMethodNotAllowed, changed: annUnchanged, noCreds: true},
		// 2: credentials
		{name: "2 no credentials", as: func(*fixture) creds { return creds{} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgMissingAuth, changed: annUnchanged, noCreds: true},
		{name: "2 wrong key", as: func(f *fixture) creds { return creds{f.owner.Email, "WrongKey0123456789abcdefghijklmn"} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgInvalidAPIKey, changed: annUnchanged},
		{name: "2 malformed key", as: func(f *fixture) creds { return creds{f.owner.Email, "short"} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgMalformedAPIKey, changed: annUnchanged},
		{name: "2 key of another account", as: func(f *fixture) creds { return creds{f.admin.Email, ownerKey} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgInvalidAPIKey, changed: annUnchanged},
		{name: "2 deactivated requester", as: func(f *fixture) creds { return f.as(f.dead) }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgUserDeactivated, changed: annUnchanged},
		{name: "2 deactivated organization", setup: func(t *testing.T, f *fixture) { f.srv.SetRealmDeactivated(true) }, as: owner, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgRealmDeactivated, changed: annUnchanged},
		// 3: rate limit
		{name: "3 rate limit", setup: func(t *testing.T, f *fixture) {
			f.srv.SetRateLimit(1, DefaultRateWindow)
			if a := call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(f.owner)); a.status != 200 {
				t.Fatalf("first request: %d", a.status)
			}
		}, as: owner, target: ann, form: newEmailForm("new@example.org"), status: 429, code: CodeRateLimitHit, msg: MsgRateLimit, changed: annUnchanged},
		// 4: target lookup
		{name: "4 unknown address", as: owner, target: func(*fixture) string { return "nobody@example.org" },
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNoSuchUser},
		{name: "4 visibility nobody hides the user from an owner", as: owner, target: func(f *fixture) string { return f.hidden.Email },
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNoSuchUser,
			changed: func(f *fixture) (int, string) { return f.hidden.ID, f.hidden.Email }},
		{name: "4 dummy address of no user", as: owner, target: func(f *fixture) string { return "user9999@" + DefaultHost },
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNoSuchUser},
		{name: "4 dummy address of another host", as: owner, target: func(f *fixture) string { return "user" + strconv.Itoa(f.ann.ID) + "@other.example" },
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNoSuchUser, changed: annUnchanged},
		{name: "4 lookup before permission: unknown user for a member", as: func(f *fixture) creds { return f.as(f.member) },
			target: func(*fixture) string { return "nobody@example.org" }, form: newEmailForm("new@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgNoSuchUser},
		// 5: requester can administer target
		{name: "5 moderator", as: func(f *fixture) creds { return f.as(f.mod) }, target: ann,
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgInsufficientPerm, changed: annUnchanged},
		{name: "5 member", as: func(f *fixture) creds { return f.as(f.member) }, target: ann,
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgInsufficientPerm, changed: annUnchanged},
		{name: "5 guest", as: func(f *fixture) creds { return f.as(f.guest) }, target: ann,
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgInsufficientPerm, changed: annUnchanged},
		{name: "5 before permission: member without new_email", as: func(f *fixture) creds { return f.as(f.member) }, target: ann,
			form: url.Values{"full_name": {"X"}}, status: 400, code: CodeBadRequest, msg: MsgInsufficientPerm, changed: annUnchanged},
		// 6: requester may change emails
		{name: "6 owner without the permission", as: func(f *fixture) creds { return f.as(f.noperm) }, target: ann,
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNotAuthorized, changed: annUnchanged},
		{name: "6 permission checked even for the same address", as: func(f *fixture) creds { return f.as(f.noperm) }, target: ann,
			form: newEmailForm("Ann@example.org"), status: 400, code: CodeBadRequest, msg: MsgNotAuthorized, changed: annUnchanged},
		{name: "6 permission checked before syntax", as: func(f *fixture) creds { return f.as(f.noperm) }, target: ann,
			form: newEmailForm("not an address"), status: 400, code: CodeBadRequest, msg: MsgNotAuthorized, changed: annUnchanged},
		// 7: same address, case-sensitive
		{name: "7 same address", as: owner, target: ann, form: newEmailForm("Ann@example.org"), status: 200, changed: annUnchanged},
		// 8: syntax
		{name: "8 no at sign", as: owner, target: ann, form: newEmailForm("ann.example.org"),
			status: 400, code: CodeBadRequest, msg: MsgInvalidNewEmail, changed: annUnchanged},
		{name: "8 empty", as: owner, target: ann, form: newEmailForm(""),
			status: 400, code: CodeBadRequest, msg: MsgInvalidNewEmail, changed: annUnchanged},
		{name: "8 single-label domain", as: owner, target: ann, form: newEmailForm("ann@example"),
			status: 400, code: CodeBadRequest, msg: MsgInvalidNewEmail, changed: annUnchanged},
		{name: "8 space", as: owner, target: ann, form: newEmailForm("ann smith@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgInvalidNewEmail, changed: annUnchanged},
		{name: "8 checked before uniqueness", as: owner, target: ann, form: newEmailForm("hidden@@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgInvalidNewEmail, changed: annUnchanged},
		// 9: unused in the realm
		{name: "9 taken", as: owner, target: ann, form: newEmailForm("members@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgAlreadyHasAccount, changed: annUnchanged},
		{name: "9 taken, other case", as: owner, target: ann, form: newEmailForm("MEMBERS@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgAlreadyHasAccount, changed: annUnchanged},
		{name: "9 taken by a user hidden from everyone", as: owner, target: ann, form: newEmailForm("hidden@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgAlreadyHasAccount, changed: annUnchanged},
		{name: "9 case-only change hits the target itself", as: owner, target: ann, form: newEmailForm("ann@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgAlreadyHasAccount, changed: annUnchanged},
		{name: "9 deactivated account", as: owner, target: ann, form: newEmailForm("gone@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgAccountDeactivated, changed: annUnchanged},
		{name: "9 system bot", as: owner, target: ann, form: newEmailForm("Notification-Bot@zulip.com"),
			status: 400, code: CodeBadRequest, msg: MsgReservedSystemBots, changed: annUnchanged},
		// 10: done
		{name: "10 owner", as: owner, target: ann, form: newEmailForm("ann.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "ann.new@example.org" }},
		{name: "10 administrator", as: func(f *fixture) creds { return f.as(f.admin) }, target: ann,
			form: newEmailForm("ann.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "ann.new@example.org" }},
		{name: "10 target by other case", as: owner, target: func(*fixture) string { return "ANN@EXAMPLE.ORG" },
			form: newEmailForm("ann.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "ann.new@example.org" }},
		{name: "10 hidden user by dummy address", as: owner, target: func(f *fixture) string { return "user" + strconv.Itoa(f.hidden.ID) + "@" + DefaultHost },
			form: newEmailForm("hidden.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.hidden.ID, "hidden.new@example.org" }},
		{name: "10 deactivated user", as: owner, target: func(f *fixture) string { return f.gone.Email },
			form: newEmailForm("gone.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.gone.ID, "gone.new@example.org" }},
		{name: "10 bot", as: owner, target: func(f *fixture) string { return f.member.Email },
			form: newEmailForm("member-bot-2@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.member.ID, "member-bot-2@example.org" }},
		{name: "10 plus, percent and question mark in addresses", as: owner, setup: func(t *testing.T, f *fixture) {
			f.srv.UpdateUser(User{ID: f.ann.ID, Email: "a+b%c?d@example.org", FullName: "Ann"})
		}, target: func(*fixture) string { return "a+b%c?d@example.org" }, form: newEmailForm("a+d%e@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "a+d%e@example.org" }},
		{name: "10 no domain restrictions on the admin path", as: owner, target: ann, form: newEmailForm("ann+tag@mailinator.com"), status: 200,
			changed: func(f *fixture) (int, string) { return f.ann.ID, "ann+tag@mailinator.com" }},
		{name: "10 administrator may change an owner", as: func(f *fixture) creds { return f.as(f.admin) },
			target: func(f *fixture) string { return f.owner.Email }, form: newEmailForm("owner-2@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.owner.ID, "owner-2@example.org" }},
	}
	return cases
}

func runPatchCase(t *testing.T, c patchCase, extra ...Option) {
	t.Helper()
	f := newFixture(t, append(append([]Option(nil), c.opts...), extra...)...)
	if c.setup != nil {
		c.setup(t, f)
	}
	target := c.target(f)
	a := call(t, f.srv, http.MethodPatch, userPath(target), c.form, c.as(f))
	if a.status != c.status {
		t.Fatalf("status = %d, want %d; body %s", a.status, c.status, a.raw)
	}
	switch {
	case c.status == 200:
		if a.str("result") != "success" || a.body["msg"] != "" {
			t.Errorf("body = %s, want success", a.raw)
		}
	case c.status == 405:
		if a.str("result") != "error" || a.str("msg") != c.msg || a.body["code"] != nil {
			t.Errorf("body = %s", a.raw)
		}
		if got := a.body["allowed_methods"]; !reflect.DeepEqual(got, []any{"GET", "HEAD"}) {
			t.Errorf("allowed_methods = %v", got)
		}
	default:
		if a.str("result") != "error" || a.str("code") != c.code || a.str("msg") != c.msg {
			t.Errorf("body = %s, want code %s msg %q", a.raw, c.code, c.msg)
		}
	}
	if c.status == 401 && a.header.Get("WWW-Authenticate") != `Basic realm="zulip"` {
		t.Errorf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
	}
	if c.changed != nil {
		id, want := c.changed(f)
		if u, _ := f.srv.User(id); u.Email != want {
			t.Errorf("user %d email = %q, want %q", id, u.Email, want)
		}
	}
}

// TestPatchUnsupportedParameters checks ignored_parameters_unsupported.
func TestPatchUnsupportedParameters(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"new_email": {"ann.new@example.org"}, "full_name": {"Ann"}, "color": {"red"}, "zz": {"1"}}
	a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), form, f.as(f.owner))
	if a.status != 200 || !reflect.DeepEqual(a.ignored(), []string{"color", "zz"}) {
		t.Fatalf("got %d %s", a.status, a.raw)
	}
	if u, _ := f.srv.User(f.ann.ID); u.Email != "ann.new@example.org" || u.FullName != "Ann" {
		t.Errorf("user = %+v", u)
	}
}

// TestPatchBodies checks the accepted encodings, and that JSON is ignored.
func TestPatchBodies(t *testing.T) {
	cases := []struct {
		name        string
		build       func(f *fixture) *http.Request
		wantEmail   string
		wantJSONRec bool
	}{
		{"urlencoded", func(f *fixture) *http.Request {
			return mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email), "application/x-www-form-urlencoded", "new_email=ann2%40example.org")
		}, "ann2@example.org", false},
		{"multipart", func(f *fixture) *http.Request {
			body := "--XYZ\r\nContent-Disposition: form-data; name=\"new_email\"\r\n\r\nann2@example.org\r\n--XYZ--\r\n"
			return mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email), "multipart/form-data; boundary=XYZ", body)
		}, "ann2@example.org", false},
		{"query string", func(f *fixture) *http.Request {
			return mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email)+"?new_email=ann2%40example.org", "", "")
		}, "ann2@example.org", false},
		{"body wins over query", func(f *fixture) *http.Request {
			return mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email)+"?new_email=q%40example.org",
				"application/x-www-form-urlencoded", "new_email=b%40example.org")
		}, "b@example.org", false},
		{"json is not parsed", func(f *fixture) *http.Request {
			return mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email), "application/json", `{"new_email":"ann2@example.org"}`)
		}, "Ann@example.org", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			a := send(t, c.build(f), f.as(f.owner))
			if a.status != 200 || a.str("result") != "success" {
				t.Fatalf("got %d %s", a.status, a.raw)
			}
			if _, listed := a.body["ignored_parameters_unsupported"]; listed {
				t.Errorf("unexpected ignored parameters: %s", a.raw)
			}
			if u, _ := f.srv.User(f.ann.ID); u.Email != c.wantEmail {
				t.Errorf("email = %q, want %q", u.Email, c.wantEmail)
			}
			reqs := f.srv.Requests()
			if got := reqs[len(reqs)-1].BodyWasJSON; got != c.wantJSONRec {
				t.Errorf("BodyWasJSON = %v", got)
			}
		})
	}
}

func mustRequest(t *testing.T, method, target, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}
