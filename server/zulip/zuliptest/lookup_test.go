package zuliptest

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// TestGetUserByEmailVisibility checks the lookup rules: a real address is
// found only when the target's visibility lets the requester see it.
func TestGetUserByEmailVisibility(t *testing.T) {
	f := newFixture(t)
	viewers := map[string]User{"owner": f.owner, "admin": f.admin, "moderator": f.mod, "member": f.member, "guest": f.guest}
	cases := []struct {
		target User
		sees   map[string]bool
	}{
		{f.ann, map[string]bool{"owner": true, "admin": true, "moderator": true, "member": true, "guest": true}},
		{f.membersOnly, map[string]bool{"owner": true, "admin": true, "moderator": true, "member": true}},
		{f.modsOnly, map[string]bool{"owner": true, "admin": true, "moderator": true}},
		{f.adminsOnly, map[string]bool{"owner": true, "admin": true}},
		{f.hidden, map[string]bool{}},
	}
	for _, c := range cases {
		for role, viewer := range viewers {
			t.Run(c.target.FullName+"/"+role, func(t *testing.T) {
				a := call(t, f.srv, http.MethodGet, userPath(c.target.Email), nil, f.as(viewer))
				if !c.sees[role] {
					if a.status != 400 || a.str("msg") != MsgNoSuchUser || a.str("code") != CodeBadRequest {
						t.Fatalf("got %d %s, want No such user", a.status, a.raw)
					}
					return
				}
				if a.status != 200 {
					t.Fatalf("got %d %s", a.status, a.raw)
				}
				u := a.body["user"].(map[string]any)
				if u["user_id"] != float64(c.target.ID) || u["delivery_email"] != c.target.Email {
					t.Errorf("user = %v", u)
				}
			})

			t.Run(c.target.FullName+"/"+role+"/dummy", func(t *testing.T) {
				dummy := "user" + strconv.Itoa(c.target.ID) + "@" + DefaultHost
				a := call(t, f.srv, http.MethodGet, userPath(dummy), nil, f.as(viewer))
				if a.status != 200 {
					t.Fatalf("got %d %s", a.status, a.raw)
				}
				u := a.body["user"].(map[string]any)
				wantEmail := dummy
				if c.target.EmailVisibility == VisibilityEveryone {
					wantEmail = c.target.Email
				}
				var wantDelivery any
				if c.sees[role] {
					wantDelivery = c.target.Email
				}
				if u["email"] != wantEmail || u["delivery_email"] != wantDelivery {
					t.Errorf("email = %v, delivery_email = %v; want %v, %v", u["email"], u["delivery_email"], wantEmail, wantDelivery)
				}
			})
		}
	}
}

// TestGetUserShape checks the user object's fields.
func TestGetUserShape(t *testing.T) {
	f := newFixture(t)
	a := call(t, f.srv, http.MethodGet, userPath(f.owner.Email)+"?client_gravatar=false", nil, f.as(f.member))
	if a.status != 200 {
		t.Fatalf("got %d %s", a.status, a.raw)
	}
	u := a.body["user"].(map[string]any)
	want := map[string]any{
		"user_id": float64(f.owner.ID), "email": f.owner.Email, "delivery_email": f.owner.Email,
		"full_name": "owner-bot", "role": float64(RoleOwner), "is_owner": true, "is_admin": true,
		"is_guest": false, "is_bot": true, "is_active": true, "bot_type": float64(1), "bot_owner_id": nil,
		"is_billing_admin": false, "timezone": "", "avatar_version": float64(1),
	}
	for k, v := range want {
		if !reflect.DeepEqual(u[k], v) {
			t.Errorf("%s = %#v, want %#v", k, u[k], v)
		}
	}
	if s, _ := u["avatar_url"].(string); s == "" {
		t.Errorf("avatar_url = %v", u["avatar_url"])
	}
	if _, ok := u["date_joined"].(string); !ok {
		t.Errorf("date_joined = %v", u["date_joined"])
	}

	a = call(t, f.srv, http.MethodGet, userPath(f.gone.Email)+"?include_custom_profile_fields=true&foo=1", nil, f.as(f.owner))
	u = a.body["user"].(map[string]any)
	if u["is_active"] != false || u["avatar_url"] != nil || u["profile_data"] == nil || u["bot_type"] != nil {
		t.Errorf("deactivated human = %v", u)
	}
	if !reflect.DeepEqual(a.ignored(), []string{"foo"}) {
		t.Errorf("ignored = %v", a.ignored())
	}
}

func TestGetMe(t *testing.T) {
	f := newFixture(t)
	a := call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(f.admin))
	if a.status != 200 || a.body["user_id"] != float64(f.admin.ID) || a.str("email") != f.admin.Email ||
		a.str("delivery_email") != f.admin.Email || a.body["role"] != float64(RoleAdmin) {
		t.Fatalf("got %d %s", a.status, a.raw)
	}
	if _, nested := a.body["user"]; nested {
		t.Errorf("GET /users/me answers at the top level: %s", a.raw)
	}
	for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if a.header.Get(k) == "" {
			t.Errorf("missing %s", k)
		}
	}
}

// TestFeatureLevels checks what changes with the server's feature level.
func TestFeatureLevels(t *testing.T) {
	t.Run("GET users/{email} needs 39", func(t *testing.T) {
		f := newFixture(t, WithFeatureLevel(38))
		a := call(t, f.srv, http.MethodGet, userPath(f.ann.Email), nil, f.as(f.owner))
		if a.status != 404 || a.str("result") != "error" {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
		f.srv.SetFeatureLevel(39)
		if a := call(t, f.srv, http.MethodGet, userPath(f.ann.Email), nil, f.as(f.owner)); a.status != 200 {
			t.Fatalf("at 39: got %d %s", a.status, a.raw)
		}
	})
	t.Run("before 302 only API addresses match", func(t *testing.T) {
		f := newFixture(t, WithFeatureLevel(301))
		dummy := func(u User) string { return "user" + strconv.Itoa(u.ID) + "@" + DefaultHost }
		for _, c := range []struct {
			addr   string
			status int
		}{
			{f.ann.Email, 200},
			{dummy(f.adminsOnly), 200},
			{f.adminsOnly.Email, 400},
			{dummy(f.ann), 400},
		} {
			if a := call(t, f.srv, http.MethodGet, userPath(c.addr), nil, f.as(f.owner)); a.status != c.status {
				t.Errorf("%s: got %d %s, want %d", c.addr, a.status, a.raw, c.status)
			}
		}
		f.srv.SetFeatureLevel(302)
		for _, addr := range []string{dummy(f.ann), f.adminsOnly.Email, dummy(f.hidden)} {
			if a := call(t, f.srv, http.MethodGet, userPath(addr), nil, f.as(f.owner)); a.status != 200 {
				t.Errorf("at 302, %s: got %d %s", addr, a.status, a.raw)
			}
		}
	})
	t.Run("PATCH users/{email} needs 313", func(t *testing.T) {
		f := newFixture(t, WithFeatureLevel(312))
		a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm("x@example.org"), f.as(f.owner))
		if a.status != 405 || a.header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
		f.srv.SetFeatureLevel(313)
		a = call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm("x@example.org"), f.as(f.owner))
		if a.status != 200 {
			t.Fatalf("at 313: got %d %s", a.status, a.raw)
		}
	})
	t.Run("PATCH users/{id} takes new_email from 313", func(t *testing.T) {
		for _, c := range []struct {
			level   int
			ignored []string
			changed bool
		}{
			{100, nil, false},
			{166, nil, false},
			{167, []string{"new_email"}, false},
			{312, []string{"new_email"}, false},
			{313, nil, true},
			{332, nil, true},
		} {
			f := newFixture(t, WithFeatureLevel(c.level))
			form := url.Values{"new_email": {"x@example.org"}, "full_name": {"Ann"}}
			a := call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), form, f.as(f.owner))
			if a.status != 200 || a.str("result") != "success" || !reflect.DeepEqual(a.ignored(), c.ignored) {
				t.Errorf("level %d: got %d %s", c.level, a.status, a.raw)
			}
			want := f.ann.Email
			if c.changed {
				want = "x@example.org"
			}
			if u, _ := f.srv.User(f.ann.ID); u.Email != want {
				t.Errorf("level %d: email is %q, want %q", c.level, u.Email, want)
			}
		}
	})
	t.Run("PATCH users/{id} checks", func(t *testing.T) {
		f := newFixture(t)
		a := call(t, f.srv, http.MethodPatch, userPath("99999"), newEmailForm("x@example.org"), f.as(f.owner))
		if a.status != 400 || a.str("msg") != MsgNoSuchUser {
			t.Errorf("unknown id: got %d %s", a.status, a.raw)
		}
		a = call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("x@example.org"), f.as(f.member))
		if a.status != 400 || a.str("msg") != MsgInsufficientPerm {
			t.Errorf("member: got %d %s", a.status, a.raw)
		}
	})
	t.Run("server_settings", func(t *testing.T) {
		for _, c := range []struct {
			level   int
			version string
		}{{332, "10.0"}, {313, "10.0"}, {312, "9.4"}, {0, "2.1.8"}} {
			f := newFixture(t, WithFeatureLevel(c.level))
			a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{})
			if a.status != 200 || a.str("result") != "success" || a.str("zulip_version") != c.version {
				t.Fatalf("level %d: got %d %s", c.level, a.status, a.raw)
			}
			level, present := a.body["zulip_feature_level"]
			if c.level == 0 && present || c.level != 0 && level != float64(c.level) {
				t.Errorf("level %d: zulip_feature_level = %v (present %v)", c.level, level, present)
			}
		}
	})
}

// TestRouting checks unknown paths and methods.
func TestRouting(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		method, path string
		status       int
		allowed      []any
	}{
		{http.MethodGet, "/api/v1/nothing", 404, nil},
		{http.MethodGet, "/api/v1/users/a/b", 404, nil},
		{http.MethodGet, "/api/v1/users/", 404, nil},
		{http.MethodGet, "/elsewhere", 404, nil},
		{http.MethodDelete, userPath("ann@example.org"), 405, []any{"GET", "HEAD", "PATCH"}},
		{http.MethodPost, "/api/v1/server_settings", 405, []any{"GET", "HEAD"}},
		{http.MethodPatch, "/api/v1/users/me", 405, []any{"GET", "HEAD"}},
	} {
		a := call(t, f.srv, c.method, c.path, nil, f.as(f.owner))
		if a.status != c.status || a.str("result") != "error" {
			t.Errorf("%s %s: got %d %s", c.method, c.path, a.status, a.raw)
		}
		if c.allowed != nil && !reflect.DeepEqual(a.body["allowed_methods"], c.allowed) {
			t.Errorf("%s %s: allowed_methods = %v", c.method, c.path, a.body["allowed_methods"])
		}
		if c.status == 404 && a.str("code") == "" {
			t.Errorf("%s %s: no code: %s", c.method, c.path, a.raw)
		}
	}
}

// TestStoreHelpers checks the test-facing store methods.
func TestStoreHelpers(t *testing.T) {
	f := newFixture(t, WithHost("chat.example.net"))
	if u, ok := f.srv.UserByEmail("ANN@EXAMPLE.ORG"); !ok || u.ID != f.ann.ID {
		t.Errorf("UserByEmail = %v, %v", u, ok)
	}
	if u, ok := f.srv.UserByEmail("hidden@example.org"); !ok || u.ID != f.hidden.ID {
		t.Errorf("UserByEmail ignores visibility: %v, %v", u, ok)
	}
	if f.ann.Role != RoleMember || f.ann.EmailVisibility != VisibilityEveryone || f.ann.DateJoined.IsZero() {
		t.Errorf("defaults not applied: %+v", f.ann)
	}
	if got := f.srv.DummyEmail(f.ann.ID); got != "user"+strconv.Itoa(f.ann.ID)+"@chat.example.net" {
		t.Errorf("DummyEmail = %q", got)
	}
	u := f.ann
	u.Role = RoleAdmin
	u.EmailVisibility = VisibilityNobody
	f.srv.UpdateUser(u)
	if got, _ := f.srv.User(u.ID); got.Role != RoleAdmin || got.EmailVisibility != VisibilityNobody || !got.DateJoined.Equal(f.ann.DateJoined) {
		t.Errorf("UpdateUser: %+v", got)
	}
	a := call(t, f.srv, http.MethodGet, userPath(f.srv.DummyEmail(u.ID)), nil, f.as(f.owner))
	if a.status != 200 || a.body["user"].(map[string]any)["email"] != f.srv.DummyEmail(u.ID) {
		t.Errorf("dummy on custom host: %d %s", a.status, a.raw)
	}
	if len(f.srv.Users()) != 13 {
		t.Errorf("Users() = %d", len(f.srv.Users()))
	}
	mustPanic(t, "duplicate address", func() { f.srv.AddUser(User{Email: "ann@EXAMPLE.org"}) })
	mustPanic(t, "duplicate ID", func() { f.srv.AddUser(User{ID: f.ann.ID, Email: "other@example.org"}) })
	mustPanic(t, "unknown ID", func() { f.srv.UpdateUser(User{ID: 99999}) })
}

func mustPanic(t *testing.T, name string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	fn()
}
