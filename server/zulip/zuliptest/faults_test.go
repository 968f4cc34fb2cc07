package zuliptest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Path: "/api/v1/users/", Kind: FaultDown, Times: 1})
		req := mustRequest(t, http.MethodGet, f.srv.URL+"/api/v1/users/me", "", "")
		req.SetBasicAuth(f.owner.Email, f.owner.APIKey)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer: %d", resp.StatusCode)
		}
		if a := call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(f.owner)); a.status != 200 {
			t.Errorf("after Times ran out: %d", a.status)
		}
		// The dropped request is recorded once its handler has returned,
		// which may come a moment after the client saw the connection close.
		reqs := f.srv.Requests()
		for deadline := time.Now().Add(5 * time.Second); len(reqs) < 2 && time.Now().Before(deadline); reqs = f.srv.Requests() {
			time.Sleep(10 * time.Millisecond)
		}
		if len(reqs) < 2 || reqs[0].Status != 0 {
			t.Errorf("recorded %+v", reqs)
		}
	})

	t.Run("skip lets the first requests through", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Method: http.MethodPatch, Kind: FaultStatus, Status: 500, Skip: 1, Times: 1})
		var got []int
		for range 3 {
			got = append(got, call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm(f.ann.Email), f.as(f.owner)).status)
		}
		if got[0] != 200 || got[1] != 500 || got[2] != 200 {
			t.Errorf("statuses %v, want [200 500 200]", got)
		}
	})

	t.Run("status", func(t *testing.T) {
		for _, c := range []struct {
			status int
			json   bool
			code   string
		}{
			{500, true, CodeBadRequest},
			{400, true, CodeBadRequest},
			{401, true, CodeUnauthorized},
			{429, true, CodeRateLimitHit},
			{502, false, ""},
			{503, false, ""},
			{504, false, ""},
		} {
			f := newFixture(t)
			f.srv.AddFault(Fault{Method: http.MethodPatch, Kind: FaultStatus, Status: c.status, Delay: 1500 * time.Millisecond})
			a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm("x@example.org"), f.as(f.owner))
			if a.status != c.status {
				t.Fatalf("%d: got %d", c.status, a.status)
			}
			if c.json && (a.str("result") != "error" || a.str("code") != c.code || a.str("msg") == "") {
				t.Errorf("%d: body %s", c.status, a.raw)
			}
			if !c.json && (!strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.raw, "<html>")) {
				t.Errorf("%d: body %q (%s)", c.status, a.raw, a.header.Get("Content-Type"))
			}
			if c.status == 429 && (a.header.Get("Retry-After") != "1.5" || a.body["retry-after"] != 1.5) {
				t.Errorf("429: Retry-After %q body %s", a.header.Get("Retry-After"), a.raw)
			}
			if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
				t.Errorf("%d: email changed", c.status)
			}
			// The fault only matches PATCH, and stays until cleared.
			if a := call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(f.owner)); a.status != 200 {
				t.Errorf("%d: GET affected: %d", c.status, a.status)
			}
			if a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), nil, f.as(f.owner)); a.status != c.status {
				t.Errorf("%d: second PATCH: %d", c.status, a.status)
			}
			f.srv.ClearFaults()
			if a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), nil, f.as(f.owner)); a.status != 200 {
				t.Errorf("%d: after ClearFaults: %d", c.status, a.status)
			}
		}
	})

	t.Run("slow", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Kind: FaultSlow, Delay: 150 * time.Millisecond, Times: 2})
		began := time.Now()
		if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 200 {
			t.Fatalf("got %d", a.status)
		}
		if d := time.Since(began); d < 150*time.Millisecond {
			t.Errorf("answered after %v", d)
		}
		// A client that gives up gets no answer, and the server stops waiting.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req := mustRequest(t, http.MethodGet, f.srv.URL+"/api/v1/server_settings", "", "").WithContext(ctx)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("slow fault then normal handling", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Method: http.MethodPatch, Kind: FaultSlow, Delay: 10 * time.Millisecond, Times: 1})
		a := call(t, f.srv, http.MethodPatch, userPath(f.ann.Email), newEmailForm("ann.new@example.org"), f.as(f.owner))
		if a.status != 200 {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
		if u, _ := f.srv.User(f.ann.ID); u.Email != "ann.new@example.org" {
			t.Errorf("email = %q", u.Email)
		}
	})

	t.Run("malformed", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Path: "/api/v1/server_settings", Kind: FaultMalformed, Times: 1})
		req := mustRequest(t, http.MethodGet, f.srv.URL+"/api/v1/server_settings", "", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		if resp.StatusCode != 200 || json.Unmarshal(raw, &v) == nil {
			t.Errorf("got %d %q", resp.StatusCode, raw)
		}
		if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 200 || a.str("result") != "success" {
			t.Errorf("second: %d %s", a.status, a.raw)
		}
	})

	t.Run("first matching fault wins", func(t *testing.T) {
		f := newFixture(t)
		f.srv.AddFault(Fault{Path: "/api/v1/server_settings", Kind: FaultStatus, Status: 503, Times: 1})
		f.srv.AddFault(Fault{Kind: FaultStatus, Status: 500, Times: 1})
		if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 503 {
			t.Errorf("first: %d", a.status)
		}
		if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 500 {
			t.Errorf("second: %d", a.status)
		}
		if a := call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{}); a.status != 200 {
			t.Errorf("third: %d", a.status)
		}
	})
}
