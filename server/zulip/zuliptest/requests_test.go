package zuliptest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestRequestRecording(t *testing.T) {
	f := newFixture(t)
	call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{})
	call(t, f.srv, http.MethodPatch, userPath("a+b%c@example.org")+"?x=1", newEmailForm("n@example.org"), f.as(f.owner))
	call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, creds{f.owner.Email, "WrongKey0123456789abcdefghijklmn"})
	send(t, mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email), "application/json", `{"new_email":"x@example.org"}`), f.as(f.admin))

	reqs := f.srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("recorded %d requests", len(reqs))
	}
	r := reqs[1]
	if r.Method != http.MethodPatch || r.Path != "/api/v1/users/a+b%25c@example.org" || r.Target != "a+b%c@example.org" ||
		r.RawQuery != "x=1" || r.ContentType != "application/x-www-form-urlencoded" ||
		r.Form.Get("new_email") != "n@example.org" || r.Form.Get("x") != "1" || r.AuthEmail != f.owner.Email ||
		r.UserAgent != "zuliptest-suite/1.0" || r.Status != 400 || r.BodyWasJSON {
		t.Errorf("recorded %+v", r)
	}
	if reqs[0].AuthEmail != "" || reqs[0].Status != 200 || reqs[2].Status != 401 {
		t.Errorf("recorded %+v / %+v", reqs[0], reqs[2])
	}
	if !reqs[3].BodyWasJSON || len(reqs[3].Form) != 0 || reqs[3].Status != 200 {
		t.Errorf("JSON request recorded as %+v", reqs[3])
	}

	// No API key, in any form, anywhere in the records.
	dump := fmt.Sprintf("%#v", reqs)
	for _, key := range []string{ownerKey, adminKey, "WrongKey0123456789abcdefghijklmn"} {
		if strings.Contains(dump, key) {
			t.Errorf("an API key was recorded")
		}
	}

	// Requests returns copies.
	reqs[1].Form.Set("new_email", "tampered")
	if f.srv.Requests()[1].Form.Get("new_email") != "n@example.org" {
		t.Errorf("Requests shares its maps")
	}
	f.srv.ResetRequests()
	if len(f.srv.Requests()) != 0 {
		t.Errorf("ResetRequests kept requests")
	}
}

func TestJSONBodyChangesNothing(t *testing.T) {
	f := newFixture(t)
	req := mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email), "application/json; charset=utf-8",
		`{"new_email":"ann.new@example.org","bogus":1}`)
	a := send(t, req, f.as(f.owner))
	if a.status != 200 || a.str("result") != "success" || a.body["ignored_parameters_unsupported"] != nil {
		t.Fatalf("got %d %s", a.status, a.raw)
	}
	if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
		t.Errorf("email changed to %q", u.Email)
	}
	// The checks before the parameters still apply.
	req = mustRequest(t, http.MethodPatch, f.srv.URL+userPath("nobody@example.org"), "application/json", `{}`)
	if a := send(t, req, f.as(f.owner)); a.status != 400 || a.str("msg") != MsgNoSuchUser {
		t.Errorf("unknown target: %d %s", a.status, a.raw)
	}
}

func TestValidEmail(t *testing.T) {
	for addr, want := range map[string]bool{
		"ann@example.org":           true,
		"a+b/c@example.org":         true,
		"o'brien@example.co.uk":     true,
		`"ann..smith"@example.org`:  true,
		`"ann smith"@example.org`:   false,
		"ann@localhost":             true,
		"ann@[127.0.0.1]":           true,
		"ann@[::1]":                 true,
		"ann@bücher.example":        true,
		"ann@xn--bcher-kva.example": true,
		"":                          false,
		"ann":                       false,
		"ann@":                      false,
		"@example.org":              false,
		"ann@example":               false,
		"ann@@example.org":          false,
		"ann smith@example.org":     false,
		"ann.@example.org":          false,
		".ann@example.org":          false,
		"a..b@example.org":          false,
		"ann@example..org":          false,
		"ann@-example.org":          false,
		"ann@example.org-":          false,
		"ann@exa_mple.org":          false,
		"ann@[300.1.1.1]":           false,
		"ann@example.org\n":         false,
		"ann@example.o":             false,
		strings.Repeat("a", 310) + "@example.org": false,
	} {
		if got := ValidEmail(addr); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", addr, got, want)
		}
	}
}
