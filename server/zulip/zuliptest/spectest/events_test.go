package spectest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestValidatorReportsEventShapes proves the validator checks the event
// endpoints: the shapes the emulator sends pass, a wrong field fails.
func TestValidatorReportsEventShapes(t *testing.T) {
	v := Load(t)
	const form = "application/x-www-form-urlencoded"
	const poll = "/api/v1/events?queue_id=q-1&last_event_id=-1"
	events := func(list string) reply {
		return reply{status: 200, body: `{"result":"success","msg":"","events":[` + list + `]}`}
	}
	cases := []struct {
		name, method, path, ctype, body string
		reply                           reply
		wantRequest, wantResponse       string
	}{
		{name: "control: register", method: "POST", path: "/api/v1/register", ctype: form, body: "event_types=%5B%22realm_user%22%5D&fetch_event_types=%5B%22realm%22%5D",
			reply: reply{status: 200, body: `{"result":"success","msg":"","queue_id":"q-1","last_event_id":-1,"zulip_feature_level":332,"zulip_version":"10.0","zulip_merge_base":"10.0","event_queue_longpoll_timeout_seconds":90}`}},
		{name: "register: last_event_id as a string", method: "POST", path: "/api/v1/register", ctype: form, body: "event_types=%5B%22realm_user%22%5D",
			reply: reply{status: 200, body: `{"result":"success","msg":"","queue_id":"q-1","last_event_id":"-1"}`}, wantResponse: "last_event_id"},
		{name: "control: heartbeat", method: "GET", path: poll, reply: events(`{"id":0,"type":"heartbeat"}`)},
		{name: "heartbeat with an extra field", method: "GET", path: poll, reply: events(`{"id":0,"type":"heartbeat","at":1}`), wantResponse: "events"},
		{name: "control: delivery_email, new_email, is_active, null", method: "GET", path: poll, reply: events(
			`{"id":1,"type":"realm_user","op":"update","person":{"user_id":12,"delivery_email":"a@example.org"}},` +
				`{"id":2,"type":"realm_user","op":"update","person":{"user_id":12,"delivery_email":null}},` +
				`{"id":3,"type":"realm_user","op":"update","person":{"user_id":12,"new_email":"a@example.org"}},` +
				`{"id":4,"type":"realm_user","op":"update","person":{"user_id":12,"is_active":false}},` +
				`{"id":5,"type":"realm_user","op":"remove","person":{"user_id":12,"full_name":"A"}}`)},
		{name: "realm_user update with a numeric new_email", method: "GET", path: poll,
			reply: events(`{"id":1,"type":"realm_user","op":"update","person":{"user_id":12,"new_email":5}}`), wantResponse: "events"},
		{name: "realm_user update with a new_email and is_active", method: "GET", path: poll,
			reply: events(`{"id":1,"type":"realm_user","op":"update","person":{"user_id":12,"new_email":"a@example.org","is_active":true}}`), wantResponse: "events"},
		{name: "events not a list", method: "GET", path: poll, reply: reply{status: 200, body: `{"result":"success","msg":"","events":{}}`}, wantResponse: "events"},
		{name: "events without queue_id", method: "GET", path: "/api/v1/events?last_event_id=-1", reply: events(``), wantRequest: "queue_id"},
		{name: "control: BAD_EVENT_QUEUE_ID", method: "GET", path: poll,
			reply: reply{status: 400, body: `{"result":"error","msg":"Bad event queue ID: q-1","code":"BAD_EVENT_QUEUE_ID","queue_id":"q-1"}`}},
		{name: "BAD_EVENT_QUEUE_ID with a numeric queue_id", method: "GET", path: poll,
			reply: reply{status: 400, body: `{"result":"error","msg":"Bad event queue ID: 1","code":"BAD_EVENT_QUEUE_ID","queue_id":1}`}, wantResponse: "queue_id"},
		{name: "control: delete a queue", method: "DELETE", path: "/api/v1/events", ctype: form, body: "queue_id=q-1",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}},
		{name: "delete without queue_id", method: "DELETE", path: "/api/v1/events", ctype: form, body: "queue=q-1",
			reply: reply{status: 200, body: `{"result":"success","msg":""}`}, wantRequest: "queue_id"},
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
			req.SetBasicAuth("bot@example.org", testKey)
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			checkOnly(t, rec.Errors(), ": request: ", c.wantRequest)
			checkOnly(t, rec.Errors(), ": response ", c.wantResponse)
		})
	}
}
