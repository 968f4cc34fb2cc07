package zuliptest

import (
	"net/http"
	"strconv"
	"testing"
)

// TestRoutesOnTheDecodedPath checks that the emulator routes like Django,
// on the percent-decoded path: the %2F of an address holding "/" splits the
// path, so no route matches and the account cannot be looked up by email
// (404), though it exists and is found by id. Other escaped characters stay
// inside the segment.
func TestRoutesOnTheDecodedPath(t *testing.T) {
	f := newFixture(t)
	slash := f.srv.AddUser(User{Email: "a/b@x.org", FullName: "Slash"})
	pct := f.srv.AddUser(User{Email: "a%2fb@x.org", FullName: "Percent"})

	a := call(t, f.srv, http.MethodGet, userPath("a/b@x.org"), nil, f.as(f.owner))
	if a.status != http.StatusNotFound || a.str("code") != CodeBadRequest || a.str("msg") != MsgNotFound {
		t.Errorf("GET /users/a%%2Fb@x.org: %d %s, want 404 Not Found", a.status, a.raw)
	}
	if got := f.srv.Requests(); got[len(got)-1].Path != "/api/v1/users/a%2Fb@x.org" || got[len(got)-1].Target != "" || got[len(got)-1].Status != 404 {
		t.Errorf("recorded %+v", got[len(got)-1])
	}
	a = call(t, f.srv, http.MethodPatch, userPath("a/b@x.org"), newEmailForm("slash.new@x.org"), f.as(f.owner))
	if a.status != http.StatusNotFound {
		t.Errorf("PATCH /users/a%%2Fb@x.org: %d %s, want 404", a.status, a.raw)
	}
	if u, _ := f.srv.User(slash.ID); u.Email != "a/b@x.org" {
		t.Errorf("the PATCH changed the user: %q", u.Email)
	}

	// The account exists: by id it is found and changed.
	a = call(t, f.srv, http.MethodGet, userPath(strconv.Itoa(slash.ID)), nil, f.as(f.owner))
	if a.status != 200 {
		t.Fatalf("GET by id: %d %s", a.status, a.raw)
	}
	// A literal "%2f" in an address is escaped as %252f and decoded once.
	a = call(t, f.srv, http.MethodGet, userPath("a%2fb@x.org"), nil, f.as(f.owner))
	if a.status != 200 || a.body["user"].(map[string]any)["user_id"] != float64(pct.ID) {
		t.Errorf("GET /users/a%%252fb@x.org: %d %s", a.status, a.raw)
	}
}
