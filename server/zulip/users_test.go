package zulip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// seen is what a fake server saw of one request.
type seen struct {
	method, path, contentType string
	form                      url.Values
	user, key                 string
	basic                     bool
}

// recordingClient starts a server that records the request and answers
// status with body.
func recordingClient(t *testing.T, status int, body string) (*Client, *seen) {
	t.Helper()
	got := &seen{}
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		got.method, got.path, got.contentType, got.form = r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), form
		got.user, got.key, got.basic = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	return c, got
}

func (s *seen) check(t *testing.T, method, path string) {
	t.Helper()
	if s.method != method || s.path != path {
		t.Errorf("sent %s %s, want %s %s", s.method, s.path, method, path)
	}
	if !s.basic || s.user != "bot@zulip.example.com" || s.key != testKey {
		t.Errorf("basic auth %v %q", s.basic, s.user)
	}
}

func TestGetUserByID(t *testing.T) {
	c, got := recordingClient(t, 200, `{"result":"success","msg":"","user":{"user_id":42,"email":"user42@zulip.example.com","delivery_email":null,"full_name":"Hidden","role":400,"is_active":true,"is_bot":false}}`)
	u, err := c.GetUserByID(context.Background(), 42)
	if err != nil {
		t.Fatal(err)
	}
	got.check(t, http.MethodGet, "/api/v1/users/42")
	if u.ID != 42 || u.Email != "user42@zulip.example.com" || u.RealAddress() != "" || !u.IsActive {
		t.Errorf("user %+v", u)
	}
}

func TestGetUserByIDWithoutUserIsMalformed(t *testing.T) {
	c, _ := recordingClient(t, 200, `{"result":"success","msg":""}`)
	_, err := c.GetUserByID(context.Background(), 42)
	var ue *UnavailableError
	if !errors.Is(err, ErrMalformedResponse) || !errors.As(err, &ue) || ue.Op != "GET /api/v1/users/{id}" {
		t.Fatalf("err = %v", err)
	}
}

func TestChangeEmailByID(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr func(error) bool
	}{
		{"success", 200, `{"result":"success","msg":""}`, func(err error) bool { return err == nil }},
		{"ignored", 200, `{"result":"success","msg":"","ignored_parameters_unsupported":["new_email"]}`, func(err error) bool { return errors.Is(err, ErrEmailIgnored) }},
		{"other parameter ignored", 200, `{"result":"success","msg":"","ignored_parameters_unsupported":["color"]}`, func(err error) bool { return err == nil }},
		{"taken", 400, `{"result":"error","msg":"New email value error: Already has an account.","code":"BAD_REQUEST"}`, func(err error) bool { return ReasonOf(err) == ReasonEmailInUse }},
		{"no such user", 400, `{"result":"error","msg":"No such user","code":"BAD_REQUEST"}`, func(err error) bool { return ReasonOf(err) == ReasonNoSuchUser }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, got := recordingClient(t, tc.status, tc.body)
			err := c.ChangeEmailByID(context.Background(), 42, "ann+new@example.org")
			if !tc.wantErr(err) {
				t.Errorf("err = %v", err)
			}
			got.check(t, http.MethodPatch, "/api/v1/users/42")
			if got.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", got.contentType)
			}
			if len(got.form) != 1 || got.form.Get("new_email") != "ann+new@example.org" {
				t.Errorf("form %v", got.form)
			}
			if err != nil && !errors.Is(err, ErrEmailIgnored) && !strings.Contains(err.Error(), "PATCH /api/v1/users/{id}") {
				t.Errorf("op missing from %v", err)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	c, got := recordingClient(t, 200, `{"result":"success","msg":"","members":[`+
		`{"user_id":8,"email":"ann@example.org","delivery_email":"ann@example.org","full_name":"Ann","role":400,"is_active":true,"is_bot":false},`+
		`{"user_id":9,"email":"user9@zulip.example.com","delivery_email":null,"full_name":"Hidden","role":400,"is_active":true,"is_bot":false},`+
		`{"user_id":10,"email":"user10@zulip.example.com","full_name":"Old server","role":200,"is_active":false,"is_bot":true}]}`)
	users, err := c.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got.check(t, http.MethodGet, "/api/v1/users")
	if len(users) != 3 {
		t.Fatalf("users %+v", users)
	}
	if users[0].RealAddress() != "ann@example.org" || users[1].RealAddress() != "" || users[2].RealAddress() != "" {
		t.Errorf("real addresses %q %q %q", users[0].RealAddress(), users[1].RealAddress(), users[2].RealAddress())
	}
	if users[2].IsActive || !users[2].IsBot || users[2].Role != RoleAdmin {
		t.Errorf("third user %+v", users[2])
	}
}

func TestUsersWithoutMembersIsMalformed(t *testing.T) {
	c, _ := recordingClient(t, 200, `{"result":"success","msg":""}`)
	if _, err := c.Users(context.Background()); !errors.Is(err, ErrMalformedResponse) || !IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
}

// TestUsersReadsALargeList: the member list may pass the 1 MiB bound of
// the other calls, but not its own.
func TestUsersReadsALargeList(t *testing.T) {
	member := `{"user_id":8,"email":"ann@example.org","delivery_email":"ann@example.org","full_name":"` + strings.Repeat("x", 1000) + `","is_active":true},`
	n := 2 * maxBodyBytes / len(member)
	c, _ := newLargeTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"success","msg":"","members":[`)
		for range n {
			_, _ = io.WriteString(w, member)
		}
		_, _ = io.WriteString(w, `{"user_id":9}]}`)
	})
	users, err := c.Users(context.Background())
	if err != nil || len(users) != n+1 {
		t.Fatalf("got %d users, %v", len(users), err)
	}

	c, _ = newLargeTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"result":"success","msg":"","members":[{"user_id":8,"full_name":"`)
		_, _ = io.WriteString(w, strings.Repeat("x", maxMembersBytes))
		_, _ = io.WriteString(w, `"}]}`)
	})
	if _, err := c.Users(context.Background()); !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("an oversized member list was accepted: %v", err)
	}
}

func TestSendDirectMessage(t *testing.T) {
	c, got := recordingClient(t, 200, `{"result":"success","msg":"","id":1234}`)
	id, err := c.SendDirectMessage(context.Background(), 42, "Your code: **123456**\n& more")
	if err != nil || id != 1234 {
		t.Fatalf("id %d, err %v", id, err)
	}
	got.check(t, http.MethodPost, "/api/v1/messages")
	if got.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", got.contentType)
	}
	want := url.Values{"type": {"direct"}, "to": {"[42]"}, "content": {"Your code: **123456**\n& more"}}
	if got.form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", got.form, want)
	}
}

func TestSendDirectMessageFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"deactivated recipient", 400, `{"result":"error","msg":"'gone@example.org' is no longer using Zulip.","code":"BAD_REQUEST"}`,
			func(err error) bool { return ReasonOf(err) == ReasonBadRequest && !IsTransient(err) }},
		{"no id in the answer", 200, `{"result":"success","msg":""}`,
			func(err error) bool { return errors.Is(err, ErrMalformedResponse) && IsTransient(err) }},
		{"server error", 502, `<html>bad gateway</html>`, IsTransient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := recordingClient(t, tc.status, tc.body)
			if _, err := c.SendDirectMessage(context.Background(), 42, "hi"); !tc.check(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	c, _ := recordingClient(t, 200, `{"result":"success","msg":"","id":1}`)
	if _, err := c.SendDirectMessage(context.Background(), 0, "hi"); err == nil {
		t.Error("sent to user 0")
	}
}

// newLargeTestClient is newTestClient with room to parse tens of MiB under
// the race detector on a busy machine.
func newLargeTestClient(t *testing.T, h http.HandlerFunc) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{SiteURL: srv.URL + "/", BotEmail: "bot@zulip.example.com", APIKey: testKey, UserAgent: "AccountSync/test", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}
