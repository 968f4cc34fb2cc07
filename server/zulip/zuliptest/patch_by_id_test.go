package zuliptest

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest/spectest"
)

// patchByIDCases is CONTRACT.md's table for PATCH /users/{id} at feature
// level 313 and above: the same checks, in the same order, as the by-email
// route, with the target found by ID whatever its email visibility.
func patchByIDCases() []patchCase {
	type tc = patchCase
	owner := func(f *fixture) creds { return f.as(f.owner) }
	id := func(u func(f *fixture) User) func(f *fixture) string {
		return func(f *fixture) string { return strconv.Itoa(u(f).ID) }
	}
	ann := id(func(f *fixture) User { return f.ann })
	annUnchanged := func(f *fixture) (int, string) { return f.ann.ID, "Ann@example.org" }
	annNow := func(email string) func(f *fixture) (int, string) {
		return func(f *fixture) (int, string) { return f.ann.ID, email }
	}
	return []tc{
		// 2: credentials
		{name: "2 no credentials", as: func(*fixture) creds { return creds{} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgMissingAuth, changed: annUnchanged, noCreds: true},
		{name: "2 wrong key", as: func(f *fixture) creds { return creds{f.owner.Email, "WrongKey0123456789abcdefghijklmn"} }, target: ann,
			form: newEmailForm("new@example.org"), status: 401, code: CodeUnauthorized, msg: MsgInvalidAPIKey, changed: annUnchanged},
		// 3: rate limit
		{name: "3 rate limit", setup: func(t *testing.T, f *fixture) {
			f.srv.SetRateLimit(1, DefaultRateWindow)
			if a := call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(f.owner)); a.status != 200 {
				t.Fatalf("first request: %d", a.status)
			}
		}, as: owner, target: ann, form: newEmailForm("new@example.org"), status: 429, code: CodeRateLimitHit, msg: MsgRateLimit, changed: annUnchanged},
		// 4: target lookup, by ID
		{name: "4 unknown id", as: owner, target: func(*fixture) string { return "99999" },
			form: newEmailForm("new@example.org"), status: 400, code: CodeBadRequest, msg: MsgNoSuchUser},
		{name: "4 lookup before permission: unknown id for a member", as: func(f *fixture) creds { return f.as(f.member) },
			target: func(*fixture) string { return "99999" }, form: newEmailForm("new@example.org"),
			status: 400, code: CodeBadRequest, msg: MsgNoSuchUser},
		{name: "4 visibility nobody does not hide a user found by id", as: owner, target: id(func(f *fixture) User { return f.hidden }),
			form: newEmailForm("hidden.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.hidden.ID, "hidden.new@example.org" }},
		{name: "4 admins-only user, by an administrator", as: func(f *fixture) creds { return f.as(f.admin) },
			target: id(func(f *fixture) User { return f.adminsOnly }), form: newEmailForm("admins.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.adminsOnly.ID, "admins.new@example.org" }},
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
		{name: "10 owner", as: owner, target: ann, form: newEmailForm("ann.new@example.org"), status: 200, changed: annNow("ann.new@example.org")},
		{name: "10 administrator", as: func(f *fixture) creds { return f.as(f.admin) }, target: ann,
			form: newEmailForm("ann.new@example.org"), status: 200, changed: annNow("ann.new@example.org")},
		{name: "10 deactivated user", as: owner, target: id(func(f *fixture) User { return f.gone }),
			form: newEmailForm("gone.new@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.gone.ID, "gone.new@example.org" }},
		{name: "10 bot", as: owner, target: id(func(f *fixture) User { return f.member }),
			form: newEmailForm("member-bot-2@example.org"), status: 200,
			changed: func(f *fixture) (int, string) { return f.member.ID, "member-bot-2@example.org" }},
		{name: "10 a slash in the current address is no obstacle", as: owner, setup: func(t *testing.T, f *fixture) {
			f.srv.UpdateUser(User{ID: f.ann.ID, Email: "a/b@example.org", FullName: "Ann"})
		}, target: ann, form: newEmailForm("a+d%e@example.org"), status: 200, changed: annNow("a+d%e@example.org")},
		{name: "10 at level 313", opts: []Option{WithFeatureLevel(313)}, as: owner, target: ann,
			form: newEmailForm("ann.new@example.org"), status: 200, changed: annNow("ann.new@example.org")},
	}
}

func TestPatchUserByIDContract(t *testing.T) {
	for _, c := range patchByIDCases() {
		t.Run(c.name, func(t *testing.T) { runPatchCase(t, c) })
	}
}

func TestSpecConformancePatchByIDTable(t *testing.T) {
	v := spectest.Load(t)
	for _, c := range patchByIDCases() {
		t.Run(c.name, func(t *testing.T) {
			rec := spectest.NewRecorder(t)
			runPatchCase(t, c, WithMiddleware(v.Middleware(rec)))
			checkReports(t, rec, c.noCreds, false)
		})
	}
}

// TestPatchUserByIDBelow313 checks that old servers ignore new_email by
// ID, with every other check still in place.
func TestPatchUserByIDBelow313(t *testing.T) {
	for _, level := range []int{312, 200, 167} {
		f := newFixture(t, WithFeatureLevel(level))
		a := call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.owner))
		if a.status != 200 || !reflect.DeepEqual(a.ignored(), []string{"new_email"}) {
			t.Errorf("level %d: got %d %s", level, a.status, a.raw)
		}
		// The permission to change emails is not even looked at.
		a = call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.noperm))
		if a.status != 200 || !reflect.DeepEqual(a.ignored(), []string{"new_email"}) {
			t.Errorf("level %d, no permission: got %d %s", level, a.status, a.raw)
		}
		a = call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.member))
		if a.status != 400 || a.str("msg") != MsgInsufficientPerm {
			t.Errorf("level %d, member: got %d %s", level, a.status, a.raw)
		}
		if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
			t.Errorf("level %d: email changed to %q", level, u.Email)
		}
	}
}
