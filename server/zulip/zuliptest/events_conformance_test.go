package zuliptest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest/spectest"
)

// eventSpecScenarios exercise POST /register, GET /events and DELETE
// /events, with every kind of event the emulator sends.
func eventSpecScenarios() []specScenario {
	owner := func(f *fixture) creds { return f.as(f.owner) }
	reg := func(form url.Values) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer { return register(t, f, owner(f), form) }
	}
	// after registers a queue as as, does something, and polls it.
	after := func(as func(f *fixture) User, do func(t *testing.T, f *fixture)) func(t *testing.T, f *fixture) answer {
		return func(t *testing.T, f *fixture) answer {
			q := registerQueue(t, f, f.as(as(f)))
			do(t, f)
			return peek(t, f, f.as(as(f)), q, -1)
		}
	}
	ownerBot := func(f *fixture) User { return f.owner }
	memberBot := func(f *fixture) User { return f.member }
	patchAnn := func(t *testing.T, f *fixture) {
		call(t, f.srv, http.MethodPatch, userPath(strconv.Itoa(f.ann.ID)), newEmailForm("ann.new@example.org"), f.as(f.owner))
	}
	hideAnn := func(_ *testing.T, f *fixture) {
		u := f.ann
		u.EmailVisibility = VisibilityAdmins
		f.srv.UpdateUser(u)
	}
	flipAnn := func(_ *testing.T, f *fixture) {
		f.srv.SetDeactivated(f.ann.ID, true)
		f.srv.SetDeactivated(f.ann.ID, false)
	}
	return []specScenario{
		{name: "register realm_user, fetch realm", do: reg(url.Values{"event_types": {`["realm_user"]`}, "fetch_event_types": {`["realm"]`}}), status: 200},
		{name: "register everything", do: reg(nil), status: 200},
		{name: "register realm_user, fetch it", do: reg(url.Values{"event_types": {`["realm_user"]`}}), status: 200},
		{name: "register with other parameters", do: reg(url.Values{"apply_markdown": {"false"}, "client_gravatar": {"false"}, "client_capabilities": {`{"user_list_incomplete":true}`}}), status: 200},
		{name: "register at level 73", opts: []Option{WithFeatureLevel(73)}, do: reg(nil), status: 200},
		{name: "register, event_types not JSON", do: reg(url.Values{"event_types": {"realm_user"}}), status: 400},
		{name: "register without credentials", do: func(t *testing.T, f *fixture) answer { return register(t, f, creds{}, nil) }, status: 401, badRequest: true},
		{name: "events, none", do: after(ownerBot, func(*testing.T, *fixture) {}), status: 200},
		{name: "events, an address change", do: after(ownerBot, patchAnn), status: 200},
		{name: "events, an address change hidden from a member", do: after(memberBot, func(t *testing.T, f *fixture) {
			hideAnn(t, f)
			f.srv.ChangeEmailInSettings(f.ann.ID, "ann.hidden@example.org")
		}), status: 200},
		{name: "events, address hidden (null)", do: after(memberBot, hideAnn), status: 200},
		{name: "events, deactivated and reactivated", do: after(ownerBot, flipAnn), status: 200},
		{name: "events, deactivated and reactivated at level 221", opts: []Option{WithFeatureLevel(221)}, do: after(ownerBot, flipAnn), status: 200},
		{name: "events, heartbeat", opts: []Option{WithEventHeartbeat(10 * time.Millisecond)}, do: func(t *testing.T, f *fixture) answer {
			q := registerQueue(t, f, owner(f))
			return call(t, f.srv, http.MethodGet, eventsPath(q, -1, ""), nil, owner(f))
		}, status: 200},
		{name: "events, bad queue id", do: func(t *testing.T, f *fixture) answer {
			return peek(t, f, owner(f), "fb67bf8a-c031-47cc-84cf-ed80accacda8", -1)
		}, status: 400},
		{name: "events, event not in the queue", do: func(t *testing.T, f *fixture) answer {
			return peek(t, f, owner(f), registerQueue(t, f, owner(f)), 3)
		}, status: 400},
		{name: "events without queue_id", do: func(t *testing.T, f *fixture) answer {
			return call(t, f.srv, http.MethodGet, "/api/v1/events?last_event_id=-1", nil, owner(f))
		}, status: 400, badRequest: true},
		{name: "delete a queue", do: func(t *testing.T, f *fixture) answer {
			q := registerQueue(t, f, owner(f))
			return call(t, f.srv, http.MethodDelete, "/api/v1/events", url.Values{"queue_id": {q}}, owner(f))
		}, status: 200},
		{name: "delete an unknown queue", do: func(t *testing.T, f *fixture) answer {
			return call(t, f.srv, http.MethodDelete, "/api/v1/events", url.Values{"queue_id": {"nope"}}, owner(f))
		}, status: 400},
	}
}

// TestSpecConformanceEvents checks the event endpoints against the spec.
func TestSpecConformanceEvents(t *testing.T) {
	v := spectest.Load(t)
	for _, sc := range eventSpecScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			rec := spectest.NewRecorder(t)
			f := newFixture(t, append(append([]Option(nil), sc.opts...), WithMiddleware(v.Middleware(rec)))...)
			a := sc.do(t, f)
			if a.status != sc.status {
				t.Fatalf("status = %d, want %d: %s", a.status, sc.status, a.raw)
			}
			if a.status == 200 && a.body["events"] != nil && sc.name != "events, none" && len(a.events(t)) == 0 {
				t.Errorf("no events to check: %s", a.raw)
			}
			checkReports(t, rec, sc.badRequest, sc.badResponse)
		})
	}
}
