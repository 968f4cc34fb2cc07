package zuliptest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest/spectest"
)

// checkReports fails t unless the validator reported exactly what is
// expected: request problems only when wantRequest, response problems only
// when wantResponse.
func checkReports(t *testing.T, rec *spectest.Recorder, wantRequest, wantResponse bool) {
	t.Helper()
	var gotRequest, gotResponse bool
	for _, msg := range rec.Errors() {
		isRequest := strings.Contains(msg, ": request: ")
		gotRequest = gotRequest || isRequest
		gotResponse = gotResponse || !isRequest
		if isRequest && !wantRequest || !isRequest && !wantResponse {
			t.Errorf("unexpected spec report: %s", msg)
		}
	}
	if wantRequest && !gotRequest {
		t.Errorf("the validator did not report the invalid request")
	}
	if wantResponse && !gotResponse {
		t.Errorf("the validator did not report the invalid response")
	}
}

// TestSpecConformancePatchTable replays CONTRACT.md's table through the
// spec validator: every answer must match the spec; only the requests sent
// without credentials are reported (as requests).
func TestSpecConformancePatchTable(t *testing.T) {
	v := spectest.Load(t)
	for _, c := range patchCases() {
		t.Run(c.name, func(t *testing.T) {
			rec := spectest.NewRecorder(t)
			runPatchCase(t, c, WithMiddleware(v.Middleware(rec)))
			checkReports(t, rec, c.noCreds, false)
		})
	}
}

type specScenario struct {
	name         string
	opts         []Option
	do           func(t *testing.T, f *fixture) answer
	status       int
	badRequest   bool // the request itself breaks the spec
	badResponse  bool // the answer is meant to break the spec (faults)
	noValidation bool // nothing to validate (connection dropped)
}

func specScenarios() []specScenario {
	get := func(path string, as func(f *fixture) creds) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			var c creds
			if as != nil {
				c = as(f)
			}
			return call(t, f.srv, http.MethodGet, path, nil, c)
		}
	}
	getUser := func(target func(f *fixture) string, query string, as func(f *fixture) creds) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			return call(t, f.srv, http.MethodGet, userPath(target(f))+query, nil, as(f))
		}
	}
	patch := func(target func(f *fixture) string, form url.Values, as func(f *fixture) creds) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			return call(t, f.srv, http.MethodPatch, userPath(target(f)), form, as(f))
		}
	}
	raw := func(method string, target func(f *fixture) string, contentType, body string) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			return send(t, mustRequest(t, method, f.srv.URL+userPath(target(f)), contentType, body), f.as(f.owner))
		}
	}
	post := func(path string, form func(f *fixture) url.Values, as func(f *fixture) creds) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			var c creds
			if as != nil {
				c = as(f)
			}
			return call(t, f.srv, http.MethodPost, path, form(f), c)
		}
	}
	dm := func(to func(f *fixture) string, content string) func(f *fixture) url.Values {
		return func(f *fixture) url.Values {
			return url.Values{"type": {"direct"}, "to": {to(f)}, "content": {content}}
		}
	}
	annToList := func(f *fixture) string { return "[" + strconv.Itoa(f.ann.ID) + "]" }
	owner := func(f *fixture) creds { return f.as(f.owner) }
	member := func(f *fixture) creds { return f.as(f.member) }
	ann := func(f *fixture) string { return f.ann.Email }
	annID := func(f *fixture) string { return strconv.Itoa(f.ann.ID) }
	dummy := func(u func(f *fixture) User) func(f *fixture) string {
		return func(f *fixture) string { return f.srv.DummyEmail(u(f).ID) }
	}
	fault := func(flt Fault, d func(t *testing.T, f *fixture) answer) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			f.srv.AddFault(flt)
			return d(t, f)
		}
	}
	annNew := url.Values{"new_email": {"ann.new@example.org"}}
	return []specScenario{
		{name: "server_settings", do: get("/api/v1/server_settings", nil), status: 200},
		{name: "server_settings level 312", opts: []Option{WithFeatureLevel(312)}, do: get("/api/v1/server_settings", nil), status: 200},
		{name: "server_settings level 0", opts: []Option{WithFeatureLevel(0)}, do: get("/api/v1/server_settings", nil), status: 200},
		{name: "server_settings with credentials", do: get("/api/v1/server_settings", owner), status: 200},
		{name: "server_settings per-IP 429", opts: []Option{WithIPRateLimit(1, time.Minute)}, do: func(t *testing.T, f *fixture) answer {
			call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{})
			return call(t, f.srv, http.MethodGet, "/api/v1/server_settings", nil, creds{})
		}, status: 429},
		{name: "me, bot", do: get("/api/v1/users/me", owner), status: 200},
		{name: "me, human", do: func(t *testing.T, f *fixture) answer {
			u := f.srv.AddUser(User{Email: "human@example.org", FullName: "Human", APIKey: "HumanKey0123456789abcdefghijklmn", EmailVisibility: VisibilityAdmins})
			return call(t, f.srv, http.MethodGet, "/api/v1/users/me", nil, f.as(u))
		}, status: 200},
		{name: "me without credentials", do: get("/api/v1/users/me", nil), status: 401, badRequest: true},
		{name: "me with a wrong key", do: get("/api/v1/users/me", func(f *fixture) creds { return creds{f.owner.Email, "nope"} }), status: 401},
		{name: "get by real address", do: getUser(ann, "", owner), status: 200},
		{name: "get by real address, no gravatar", do: getUser(ann, "?client_gravatar=false&include_custom_profile_fields=true", member), status: 200},
		{name: "get restricted user by dummy as member", do: getUser(dummy(func(f *fixture) User { return f.adminsOnly }), "", member), status: 200},
		{name: "get hidden user by dummy", do: getUser(dummy(func(f *fixture) User { return f.hidden }), "", owner), status: 200},
		{name: "get hidden user by address", do: getUser(func(f *fixture) string { return f.hidden.Email }, "", owner), status: 400},
		{name: "get deactivated user", do: getUser(func(f *fixture) string { return f.gone.Email }, "", owner), status: 200},
		{name: "get bot with owner", do: func(t *testing.T, f *fixture) answer {
			b := f.srv.AddUser(User{Email: "owned-bot@example.org", IsBot: true, BotOwnerID: f.ann.ID})
			return call(t, f.srv, http.MethodGet, userPath(b.Email), nil, f.as(f.owner))
		}, status: 200},
		{name: "get at level 162", opts: []Option{WithFeatureLevel(162)}, do: getUser(func(f *fixture) string { return f.srv.DummyEmail(f.adminsOnly.ID) }, "", owner), status: 200},
		{name: "get at level 38", opts: []Option{WithFeatureLevel(38)}, do: getUser(ann, "", owner), status: 404},
		{name: "get with unknown parameter", do: getUser(ann, "?color=red", owner), status: 200},
		{name: "get by id", do: getUser(annID, "", owner), status: 200},
		{name: "get by unknown id", do: getUser(func(*fixture) string { return "99999" }, "", owner), status: 400},
		{name: "patch by id changes the email (332)", do: patch(annID, annNew, owner), status: 200},
		{name: "patch by id of a hidden user", do: patch(func(f *fixture) string { return strconv.Itoa(f.hidden.ID) }, annNew, owner), status: 200},
		{name: "patch by id, taken", do: patch(annID, url.Values{"new_email": {"members@example.org"}}, owner), status: 400},
		{name: "patch by id, unknown id", do: patch(func(*fixture) string { return "99999" }, annNew, owner), status: 400},
		{name: "get users", do: get("/api/v1/users", owner), status: 200},
		{name: "get users as a member, no gravatar, profile fields", do: get("/api/v1/users?client_gravatar=false&include_custom_profile_fields=true", member), status: 200},
		{name: "get users at level 162", opts: []Option{WithFeatureLevel(162)}, do: get("/api/v1/users", owner), status: 200},
		{name: "get users without credentials", do: get("/api/v1/users", nil), status: 401, badRequest: true},
		{name: "send direct message", do: post("/api/v1/messages", dm(annToList, "Your code is 123456"), owner), status: 200},
		{name: "send direct message, type private", do: post("/api/v1/messages", func(f *fixture) url.Values {
			return url.Values{"type": {"private"}, "to": {annToList(f)}, "content": {"hi"}}
		}, owner), status: 200},
		{name: "send direct message by email", do: post("/api/v1/messages", dm(func(f *fixture) string { return `["` + f.ann.Email + `"]` }, "hi"), owner), status: 200},
		{name: "send direct message to an unknown id", do: post("/api/v1/messages", dm(func(*fixture) string { return "[99999]" }, "hi"), owner), status: 400},
		{name: "send direct message to a deactivated user", do: post("/api/v1/messages", dm(func(f *fixture) string { return "[" + strconv.Itoa(f.gone.ID) + "]" }, "hi"), owner), status: 400},
		{name: "send an empty direct message", do: post("/api/v1/messages", dm(annToList, " \n"), owner), status: 400},
		{name: "send direct message without content", do: post("/api/v1/messages", func(f *fixture) url.Values {
			return url.Values{"type": {"direct"}, "to": {annToList(f)}}
		}, owner), status: 400, badRequest: true, badResponse: true},
		{name: "send direct message without credentials", do: post("/api/v1/messages", dm(annToList, "hi"), nil), status: 401, badRequest: true},
		{name: "fault redirect on PATCH", do: fault(Fault{Kind: FaultRedirect, Status: 301, Location: "https://elsewhere.example/"}, patch(ann, annNew, owner)), status: 301},
		{name: "fault redirect on GET users", do: fault(Fault{Kind: FaultRedirect, Status: 307, Location: "/login/"}, get("/api/v1/users", owner)), status: 307},
		{name: "fault redirect without Location", do: fault(Fault{Kind: FaultRedirect}, get("/api/v1/server_settings", nil)), status: 302},
		{name: "fault late commit", do: fault(Fault{Kind: FaultLateCommit, Delay: 5 * time.Millisecond}, patch(annID, annNew, owner)), status: 200},
		{name: "patch by id ignores new_email (312)", opts: []Option{WithFeatureLevel(312)}, do: patch(annID, annNew, owner), status: 200},
		{name: "patch by id (166)", opts: []Option{WithFeatureLevel(166)}, do: patch(annID, annNew, owner), status: 200},
		{name: "patch by id as member", do: patch(annID, annNew, member), status: 400},
		{name: "patch with ignored parameters", do: patch(ann, url.Values{"new_email": {"a2@example.org"}, "color": {"red"}}, owner), status: 200},
		{name: "patch multipart", do: raw(http.MethodPatch, ann, "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"new_email\"\r\n\r\nann2@example.org\r\n--B--\r\n"), status: 200},
		{name: "patch query string", do: func(t *testing.T, f *fixture) answer {
			return send(t, mustRequest(t, http.MethodPatch, f.srv.URL+userPath(f.ann.Email)+"?new_email=a3%40example.org", "", ""), f.as(f.owner))
		}, status: 200},
		{name: "patch with a JSON body", do: raw(http.MethodPatch, ann, "application/json", `{"new_email":"ann2@example.org"}`), status: 200, badRequest: true},
		{name: "delete is not emulated (nor in the spec)", do: raw(http.MethodDelete, ann, "", ""), status: 405, badRequest: true},
		{name: "unknown path", do: get("/api/v1/no/such/thing", owner), status: 404, badRequest: true},
		{name: "fault 400", do: fault(Fault{Kind: FaultStatus, Status: 400}, patch(ann, annNew, owner)), status: 400},
		{name: "fault 401", do: fault(Fault{Kind: FaultStatus, Status: 401}, patch(ann, annNew, owner)), status: 401},
		{name: "fault 429", do: fault(Fault{Kind: FaultStatus, Status: 429, Delay: 2500 * time.Millisecond}, patch(ann, annNew, owner)), status: 429},
		{name: "fault 500", do: fault(Fault{Kind: FaultStatus, Status: 500}, patch(ann, annNew, owner)), status: 500},
		{name: "fault 502", do: fault(Fault{Kind: FaultStatus, Status: 502}, patch(ann, annNew, owner)), status: 502},
		{name: "fault 503", do: fault(Fault{Kind: FaultStatus, Status: 503}, get("/api/v1/server_settings", nil)), status: 503},
		{name: "fault 504", do: fault(Fault{Kind: FaultStatus, Status: 504}, getUser(ann, "", owner)), status: 504},
		{name: "fault slow", do: fault(Fault{Kind: FaultSlow, Delay: 5 * time.Millisecond}, patch(ann, annNew, owner)), status: 200},
		{name: "fault malformed", do: fault(Fault{Kind: FaultMalformed}, getUser(ann, "", owner)), status: 200, badResponse: true},
		{name: "fault down", do: func(t *testing.T, f *fixture) answer {
			f.srv.AddFault(Fault{Kind: FaultDown})
			req := mustRequest(t, http.MethodGet, f.srv.URL+"/api/v1/server_settings", "", "")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("got an answer")
			}
			return answer{}
		}, noValidation: true},
	}
}

// TestSpecConformanceScenarios checks the other endpoints, feature levels,
// encodings and faults against the spec.
func TestSpecConformanceScenarios(t *testing.T) {
	v := spectest.Load(t)
	for _, sc := range specScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			rec := spectest.NewRecorder(t)
			f := newFixture(t, append(append([]Option(nil), sc.opts...), WithMiddleware(v.Middleware(rec)))...)
			a := sc.do(t, f)
			if !sc.noValidation && a.status != sc.status {
				t.Fatalf("status = %d, want %d: %s", a.status, sc.status, a.raw)
			}
			checkReports(t, rec, sc.badRequest, sc.badResponse)
		})
	}
}
