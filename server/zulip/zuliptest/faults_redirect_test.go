package zuliptest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFaultRedirect(t *testing.T) {
	for _, c := range []struct {
		status, want int
		location     string
	}{
		{0, 302, "https://zulip.example.com/api/v1/users/x"},
		{301, 301, "https://zulip.example.com/"},
		{302, 302, "/accounts/login/?next=/api/v1/users"},
		{303, 303, "http://127.0.0.1:1/"},
		{307, 307, "https://sso.example.net/auth"},
		{308, 308, ""},
	} {
		t.Run(strconv.Itoa(c.want), func(t *testing.T) {
			f := newFixture(t)
			f.srv.AddFault(Fault{Method: http.MethodPatch, Kind: FaultRedirect, Status: c.status, Location: c.location, Times: 1})
			a := call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.owner))
			if a.status != c.want || a.header.Get("Location") != c.location {
				t.Fatalf("got %d Location %q, want %d %q", a.status, a.header.Get("Location"), c.want, c.location)
			}
			if _, has := a.header["Location"]; c.location == "" && has {
				t.Errorf("a Location header without a Location")
			}
			if !strings.Contains(a.raw, strconv.Itoa(c.want)) {
				t.Errorf("body %q", a.raw)
			}
			if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
				t.Errorf("a redirected PATCH changed the email to %q", u.Email)
			}
			if reqs := f.srv.Requests(); len(reqs) != 1 || reqs[0].Status != c.want {
				t.Errorf("recorded %+v", reqs)
			}
			// Times: 1, the next PATCH goes through.
			a = call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.owner))
			if u, _ := f.srv.User(f.ann.ID); a.status != 200 || u.Email != "ann.new@example.org" {
				t.Errorf("after the fault: %d %s, email %q", a.status, a.raw, u.Email)
			}
		})
	}
}

// TestFaultLateCommit: the client gives up, the change commits anyway.
func TestFaultLateCommit(t *testing.T) {
	f := newFixture(t)
	f.srv.AddFault(Fault{Method: http.MethodPatch, Kind: FaultLateCommit, Delay: 300 * time.Millisecond, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := mustRequest(t, http.MethodPatch, f.srv.URL+userPath(strconv.Itoa(f.ann.ID)), "application/x-www-form-urlencoded", "new_email=ann.late%40example.org").WithContext(ctx)
	req.SetBasicAuth(f.owner.Email, f.owner.APIKey)
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the client got an answer: %d", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if u, _ := f.srv.User(f.ann.ID); u.Email != f.ann.Email {
		t.Fatalf("committed before Delay: %q", u.Email)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if u, _ := f.srv.User(f.ann.ID); u.Email == "ann.late@example.org" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change never committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("committed after %v, before Delay", d)
	}
	// Closing waits for the handler; it does not hang.
	done := make(chan struct{})
	go func() { f.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
}
