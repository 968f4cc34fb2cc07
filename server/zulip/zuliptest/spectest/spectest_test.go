package spectest

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testKey = "SecretKey0123456789abcdefghijklm"

// reply is a canned answer of a fake server.
type reply struct {
	status  int
	ctype   string
	headers map[string]string
	body    string
}

func (rp reply) serve(w http.ResponseWriter, _ *http.Request) {
	for k, v := range rp.headers {
		w.Header().Set(k, v)
	}
	ctype := rp.ctype
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

const goodUserObject = `{"user_id":12,"email":"ann@example.org","delivery_email":"ann@example.org",` +
	`"full_name":"Ann","date_joined":"2025-01-01T00:00+00:00","is_active":true,"is_owner":false,"is_admin":false,` +
	`"is_guest":false,"is_billing_admin":false,"is_bot":false,"role":400,"timezone":"","avatar_url":null,"avatar_version":1}`

const goodUser = `{"result":"success","msg":"","user":` + goodUserObject + `}`

// TestValidatorReports proves the validator fails what it should, and
// passes the well-formed controls.
func TestValidatorReports(t *testing.T) {
	v := Load(t)
	type tc struct {
		name         string
		method, path string
		ctype, body  string
		noAuth       bool
		reply        reply
		wantRequest  string // substring of the expected request report; "" = none
		wantResponse string // substring of the expected response report; "" = none
	}
	getAnn := "/api/v1/users/ann@example.org"
	rl := map[string]string{"Retry-After": "28.7"}
	cases := []tc{
		{name: "control: user", method: "GET", path: getAnn, reply: reply{status: 200, body: goodUser}},
		{name: "control: HEAD", method: "HEAD", path: getAnn, reply: reply{status: 200, body: goodUser}},
		{name: "user_id of the wrong type", method: "GET", path: getAnn,
			reply:        reply{status: 200, body: strings.Replace(goodUser, `"user_id":12`, `"user_id":"12"`, 1)},
			wantResponse: "user_id"},
		{name: "unknown user field", method: "GET", path: getAnn,
			reply:        reply{status: 200, body: strings.Replace(goodUser, `"timezone":""`, `"timezone":"","color":"red"`, 1)},
			wantResponse: "color"},
		{name: "role outside the enum", method: "GET", path: getAnn,
			reply:        reply{status: 200, body: strings.Replace(goodUser, `"role":400`, `"role":250`, 1)},
			wantResponse: "role"},
		{name: "success without msg", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 200, body: `{"result":"success"}`}, wantResponse: "msg"},
		{name: "unknown field in a simple success", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 200, body: `{"result":"success","msg":"","changed":true}`}, wantResponse: "changed"},
		{name: "control: ignored parameters", method: "PATCH", path: "/api/v1/users/12", ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 200, body: `{"result":"success","msg":"","ignored_parameters_unsupported":["new_email"]}`}},
		{name: "400 without code", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 400, body: `{"result":"error","msg":"No such user"}`}, wantResponse: "code"},
		{name: "control: 400", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 400, body: `{"result":"error","msg":"No such user","code":"BAD_REQUEST"}`}},
		{name: "401 without WWW-Authenticate", method: "GET", path: getAnn,
			reply: reply{status: 401, body: `{"result":"error","msg":"Invalid API key","code":"UNAUTHORIZED"}`}, wantResponse: "WWW-Authenticate"},
		{name: "401 with result success", method: "GET", path: getAnn,
			reply: reply{status: 401, headers: map[string]string{"WWW-Authenticate": `Basic realm="zulip"`},
				body: `{"result":"success","msg":"Invalid API key","code":"UNAUTHORIZED"}`}, wantResponse: "result"},
		{name: "control: 429 with float retry-after", method: "GET", path: getAnn,
			reply: reply{status: 429, headers: rl, body: `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":28.7}`}},
		{name: "429 with string retry-after", method: "GET", path: getAnn,
			reply:        reply{status: 429, headers: rl, body: `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":"28.7"}`},
			wantResponse: "retry-after"},
		{name: "429 without Retry-After header", method: "GET", path: getAnn,
			reply:        reply{status: 429, body: `{"result":"error","msg":"API usage exceeded rate limit","code":"RATE_LIMIT_HIT","retry-after":28.7}`},
			wantResponse: "Retry-After"},
		{name: "405 without allowed_methods", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 405, body: `{"result":"error","msg":"Method Not Allowed"}`}, wantResponse: "allowed_methods"},
		{name: "control: 405", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 405, body: `{"result":"error","msg":"Method Not Allowed","allowed_methods":["GET","HEAD"]}`}},
		{name: "500 as plain text", method: "GET", path: getAnn,
			reply: reply{status: 500, ctype: "text/plain", body: "oops"}, wantResponse: "Content-Type"},
		{name: "control: 502 from a proxy", method: "GET", path: getAnn,
			reply: reply{status: 502, ctype: "text/html", body: "<html>Bad Gateway</html>"}},
		{name: "rate-limit header not an integer", method: "GET", path: getAnn,
			reply: reply{status: 200, headers: map[string]string{"X-RateLimit-Remaining": "many"}, body: goodUser}, wantResponse: "X-RateLimit-Remaining"},
		{name: "server_settings: feature level as a string", method: "GET", path: "/api/v1/server_settings", noAuth: true,
			reply: reply{status: 200, body: `{"result":"success","msg":"","zulip_version":"10.0","zulip_feature_level":"332"}`}, wantResponse: "zulip_feature_level"},
		{name: "server_settings: JSON sent as text", method: "GET", path: "/api/v1/server_settings", noAuth: true,
			reply: reply{status: 200, ctype: "text/plain", body: `{"result":"success","msg":""}`}, wantResponse: "text/plain"},
		{name: "control: server_settings without credentials", method: "GET", path: "/api/v1/server_settings", noAuth: true,
			reply: reply{status: 200, body: `{"result":"success","msg":"","zulip_version":"10.0","zulip_feature_level":332}`}},
		{name: "PATCH without credentials", method: "PATCH", path: getAnn, noAuth: true, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}, wantRequest: "credentials"},
		{name: "PATCH with a JSON body", method: "PATCH", path: getAnn, ctype: "application/json", body: `{"new_email":"b@example.org"}`,
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}, wantRequest: "Content-Type"},
		{name: "PATCH with a non-integer role", method: "PATCH", path: getAnn, ctype: "application/x-www-form-urlencoded", body: "role=owner",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}, wantRequest: "role"},
		{name: "control: PATCH multipart", method: "PATCH", path: getAnn, ctype: "multipart/form-data; boundary=B",
			body:  "--B\r\nContent-Disposition: form-data; name=\"new_email\"\r\n\r\nb@example.org\r\n--B--\r\n",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}},
		{name: "non-boolean client_gravatar", method: "GET", path: getAnn + "?client_gravatar=maybe",
			reply: reply{status: 200, body: goodUser}, wantRequest: "client_gravatar"},
		{name: "path the spec lacks", method: "GET", path: "/api/v1/no/such/thing",
			reply: reply{status: 404, body: `{"result":"error","msg":"Not Found","code":"BAD_REQUEST"}`}, wantRequest: "no operation"},
		{name: "method the spec lacks", method: "PUT", path: getAnn,
			reply: reply{status: 405, body: `{"result":"error","msg":"Method Not Allowed","allowed_methods":["GET","HEAD","PATCH"]}`}, wantRequest: "no operation"},
		{name: "numeric segment is a user ID", method: "GET", path: "/api/v1/users/12?client_gravatar=false",
			reply: reply{status: 200, body: goodUser}},
		{name: "redirect answers are not checked", method: "GET", path: getAnn,
			reply: reply{status: 302, ctype: "text/html", headers: map[string]string{"Location": "https://elsewhere.example/"}, body: "<html>Found</html>"}},
		{name: "redirect: the request is still checked", method: "PATCH", path: getAnn, noAuth: true, ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 301, ctype: "text/html", headers: map[string]string{"Location": "/login/"}}, wantRequest: "credentials"},
		{name: "control: PATCH by id with new_email", method: "PATCH", path: "/api/v1/users/12", ctype: "application/x-www-form-urlencoded", body: "new_email=b%40example.org",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}},
		{name: "control: get users", method: "GET", path: "/api/v1/users",
			reply: reply{status: 200, body: `{"result":"success","msg":"","members":[` + goodUserObject + `]}`}},
		{name: "get users: member of the wrong shape", method: "GET", path: "/api/v1/users",
			reply:        reply{status: 200, body: `{"result":"success","msg":"","members":[{"user_id":"12"}]}`},
			wantResponse: "user_id"},
		{name: "control: send a direct message", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=direct&to=%5B12%5D&content=hi",
			reply: reply{status: 200, body: `{"result":"success","msg":"","id":42}`}},
		{name: "send: success without id", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=direct&to=%5B12%5D&content=hi",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}, wantResponse: "id"},
		{name: "control: send, 400 BAD_REQUEST", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=direct&to=%5B99%5D&content=hi",
			reply: reply{status: 400, body: `{"result":"error","msg":"Invalid user ID 99","code":"BAD_REQUEST"}`}},
		{name: "send: 400 without code", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=direct&to=%5B99%5D&content=hi",
			reply: reply{status: 400, body: `{"result":"error","msg":"Invalid user ID 99"}`}, wantResponse: "code"},
		{name: "send: unknown type", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=personal&to=%5B12%5D&content=hi",
			reply: reply{status: 400, body: `{"result":"error","msg":"Invalid type","code":"BAD_REQUEST"}`}, wantRequest: "type"},
		{name: "send: no content", method: "POST", path: "/api/v1/messages", ctype: "application/x-www-form-urlencoded", body: "type=direct&to=%5B12%5D",
			reply: reply{status: 400, body: `{"result":"error","msg":"Invalid type","code":"BAD_REQUEST"}`}, wantRequest: "content"},
		{name: "numeric segment must answer as get-user", method: "PATCH", path: "/api/v1/users/12", ctype: "application/x-www-form-urlencoded", body: "full_name=A",
			reply: reply{status: 200, body: goodUser}, wantResponse: "user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := NewRecorder(t)
			srv := httptest.NewServer(v.Middleware(rec)(http.HandlerFunc(c.reply.serve)))
			defer srv.Close()
			req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if !c.noAuth {
				req.SetBasicAuth("bot@example.org", testKey)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.reply.status {
				t.Errorf("the middleware changed the status: %d", resp.StatusCode)
			}
			checkOnly(t, rec.Errors(), ": request: ", c.wantRequest)
			checkOnly(t, rec.Errors(), ": response ", c.wantResponse)
			for _, msg := range rec.Errors() {
				if strings.Contains(msg, testKey) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte("bot@example.org:"+testKey))) {
					t.Errorf("a report shows the API key")
				}
			}
		})
	}
}

// noRedirects hands a redirect back as the answer.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// checkOnly wants one report of the kind when want != "" (containing want),
// none otherwise.
func checkOnly(t *testing.T, msgs []string, kind, want string) {
	t.Helper()
	var found []string
	for _, m := range msgs {
		if strings.Contains(m, kind) {
			found = append(found, m)
		}
	}
	switch {
	case want == "" && len(found) > 0:
		t.Errorf("unexpected %q reports: %q", kind, found)
	case want != "" && len(found) == 0:
		t.Errorf("no %q report; want one about %q (all: %q)", kind, want, msgs)
	case want != "" && !strings.Contains(strings.Join(found, "\n"), want):
		t.Errorf("%q reports %q do not mention %q", kind, found, want)
	}
}

func TestRedact(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/v1/users/me", nil)
	req.SetBasicAuth("bot@example.org", testKey)
	msg := "saw " + req.Header.Get("Authorization") + " and " + testKey
	got := redact(req, msg)
	if strings.Contains(got, testKey) || strings.Contains(got, req.Header.Get("Authorization")[6:]) {
		t.Errorf("redact = %q", got)
	}
}

func TestSpecPath(t *testing.T) {
	t.Run("repository root", func(t *testing.T) {
		t.Setenv(EnvSharedDir, "")
		p, err := SpecPath()
		if err != nil {
			t.Fatal(err)
		}
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(filepath.Dir(root), "shared", "zulip", "openapi", "zulip.yaml"); p != want {
			t.Errorf("SpecPath = %q, want %q", p, want)
		}
		if modulePathOf(filepath.Join(root, "go.mod")) != ModulePath {
			t.Errorf("root %s is not the module", root)
		}
	})
	t.Run("environment override", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv(EnvSharedDir, dir)
		p, err := SpecPath()
		if err != nil || p != filepath.Join(dir, "zulip", "openapi", "zulip.yaml") {
			t.Errorf("SpecPath = %q, %v", p, err)
		}
	})
	t.Run("missing spec skips", func(t *testing.T) {
		t.Setenv(EnvSharedDir, t.TempDir())
		skipped := false
		t.Run("inner", func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			Load(t)
			t.Error("Load returned without the spec")
		})
		if !skipped {
			t.Errorf("Load did not skip")
		}
	})
	t.Run("module line", func(t *testing.T) {
		dir := t.TempDir()
		gomod := filepath.Join(dir, "go.mod")
		if err := os.WriteFile(gomod, []byte("// comment\nmodule \"example.com/x\" // trailing\n\ngo 1.26\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := modulePathOf(gomod); got != "example.com/x" {
			t.Errorf("modulePathOf = %q", got)
		}
	})
}
