package zuliptest

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func dmForm(to, content string) url.Values {
	return url.Values{"type": {"direct"}, "to": {to}, "content": {content}}
}

func idList(ids ...int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestSendDirectMessage(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	f := newFixture(t, withClock(clock))
	a := call(t, f.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(f.hidden.ID), "\n\nYour code is **123456**  \n\n"), f.as(f.owner))
	if a.status != 200 || a.str("result") != "success" || a.body["id"] == nil {
		t.Fatalf("got %d %s", a.status, a.raw)
	}
	clock.Advance(time.Second)
	b := call(t, f.srv, http.MethodPost, "/api/v1/messages", url.Values{"type": {"private"}, "to": {idList(f.ann.ID, f.hidden.ID, f.ann.ID)}, "content": {"two"}}, f.as(f.admin))
	if b.status != 200 || b.body["id"] == a.body["id"] {
		t.Fatalf("second: got %d %s", b.status, b.raw)
	}
	got := f.srv.DirectMessages()
	want := []DirectMessage{
		{ID: int(a.body["id"].(float64)), SenderID: f.owner.ID, To: []int{f.hidden.ID}, Content: "Your code is **123456**", At: clock.Now().Add(-time.Second)},
		{ID: int(b.body["id"].(float64)), SenderID: f.admin.ID, To: []int{f.ann.ID, f.hidden.ID}, Content: "two", At: clock.Now()},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages\n got %+v\nwant %+v", got, want)
	}

	got[0].To[0] = 0
	if f.srv.DirectMessages()[0].To[0] != f.hidden.ID {
		t.Errorf("DirectMessages shares its slices")
	}
	f.srv.ResetDirectMessages()
	if len(f.srv.DirectMessages()) != 0 {
		t.Errorf("ResetDirectMessages kept messages")
	}
	c := call(t, f.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(f.ann.ID), "three"), f.as(f.owner))
	if c.body["id"].(float64) <= b.body["id"].(float64) {
		t.Errorf("message IDs went back: %s after %s", c.raw, b.raw)
	}
}

func TestSendDirectMessageByEmail(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name, to string
		ok       bool
		want     []int
	}{
		{"JSON list, visible address, other case", `["ANN@example.org"]`, true, []int{f.ann.ID}},
		{"comma-separated", "ann@example.org, " + f.srv.DummyEmail(f.hidden.ID), true, []int{f.ann.ID, f.hidden.ID}},
		{"dummy address of a hidden user", `["` + f.srv.DummyEmail(f.hidden.ID) + `"]`, true, []int{f.hidden.ID}},
		{"real address of a hidden user", `["hidden@example.org"]`, false, nil},
		{"real address of an admins-only user, even for an owner", `["admins@example.org"]`, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.srv.ResetDirectMessages()
			a := call(t, f.srv, http.MethodPost, "/api/v1/messages", dmForm(c.to, "hi"), f.as(f.owner))
			if !c.ok {
				if a.status != 400 || !strings.HasPrefix(a.str("msg"), "Invalid email '") {
					t.Errorf("got %d %s", a.status, a.raw)
				}
				return
			}
			msgs := f.srv.DirectMessages()
			if a.status != 200 || len(msgs) != 1 || !reflect.DeepEqual(msgs[0].To, c.want) {
				t.Errorf("got %d %s, messages %+v", a.status, a.raw, msgs)
			}
		})
	}
}

func TestSendDirectMessageErrors(t *testing.T) {
	f := newFixture(t)
	ann := idList(f.ann.ID)
	hiddenGone := f.srv.AddUser(User{Email: "hidden-gone@example.org", EmailVisibility: VisibilityNobody, Deactivated: true})
	cases := []struct {
		name   string
		opts   []Option
		form   url.Values
		status int
		code   string
		msg    string
	}{
		{"missing type", nil, url.Values{"to": {ann}, "content": {"x"}}, 400, CodeMissingParam, "Missing 'type' argument"},
		{"missing content", nil, url.Values{"type": {"direct"}, "to": {ann}}, 400, CodeMissingParam, "Missing 'content' argument"},
		{"missing to", nil, url.Values{"type": {"direct"}, "content": {"x"}}, 400, CodeMissingParam, "Missing 'to' argument"},
		{"unknown type", nil, url.Values{"type": {"personal"}, "to": {ann}, "content": {"x"}}, 400, CodeBadRequest, MsgInvalidType},
		{"direct before level 174", []Option{WithFeatureLevel(173)}, dmForm(ann, "x"), 400, CodeBadRequest, MsgInvalidType},
		{"a bare id is not a list", nil, dmForm(strconv.Itoa(f.ann.ID), "x"), 400, CodeBadRequest, MsgRecipientsType},
		{"an object", nil, dmForm(`{"id":1}`, "x"), 400, CodeBadRequest, MsgRecipientsType},
		{"a float id", nil, dmForm("[1.0]", "x"), 400, CodeBadRequest, MsgRecipientsType},
		{"mixed list", nil, dmForm("["+strconv.Itoa(f.ann.ID)+`,"bob@example.org"]`, "x"), 400, CodeBadRequest, MsgRecipientsMixed},
		{"empty list", nil, dmForm("[]", "x"), 400, CodeBadRequest, MsgNoRecipients},
		{"empty string", nil, dmForm("", "x"), 400, CodeBadRequest, MsgNoRecipients},
		{"unknown id", nil, dmForm("[99999]", "x"), 400, CodeBadRequest, "Invalid user ID 99999"},
		{"unknown id before empty content", nil, dmForm("[99999]", "  "), 400, CodeBadRequest, "Invalid user ID 99999"},
		{"empty content", nil, dmForm(ann, " \n\t"), 400, CodeBadRequest, MsgEmptyMessage},
		{"null byte", nil, dmForm(ann, "a\x00b"), 400, CodeBadRequest, MsgNullBytes},
		{"empty content before deactivated recipient", nil, dmForm(idList(f.gone.ID), ""), 400, CodeBadRequest, MsgEmptyMessage},
		{"deactivated recipient", nil, dmForm(idList(f.ann.ID, f.gone.ID), "x"), 400, CodeBadRequest, "'gone@example.org' is no longer using Zulip."},
		{"deactivated hidden recipient", nil, dmForm(idList(hiddenGone.ID), "x"), 400, CodeBadRequest,
			"'" + f.srv.DummyEmail(hiddenGone.ID) + "' is no longer using Zulip."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, as := f.srv, f.as(f.owner)
			if c.opts != nil {
				g := newFixture(t, c.opts...)
				srv, as, c.form = g.srv, g.as(g.owner), replaceTo(c.form, ann, idList(g.ann.ID))
			}
			srv.ResetDirectMessages()
			a := call(t, srv, http.MethodPost, "/api/v1/messages", c.form, as)
			if a.status != c.status || a.str("code") != c.code || a.str("msg") != c.msg {
				t.Errorf("got %d %s, want %d %s %q", a.status, a.raw, c.status, c.code, c.msg)
			}
			if c.code == CodeMissingParam && a.body["var_name"] == nil {
				t.Errorf("no var_name: %s", a.raw)
			}
			if n := len(srv.DirectMessages()); n != 0 {
				t.Errorf("%d messages recorded", n)
			}
		})
	}

	t.Run("private still works before level 174", func(t *testing.T) {
		g := newFixture(t, WithFeatureLevel(173))
		form := url.Values{"type": {"private"}, "to": {idList(g.ann.ID)}, "content": {"x"}}
		if a := call(t, g.srv, http.MethodPost, "/api/v1/messages", form, g.as(g.owner)); a.status != 200 {
			t.Errorf("got %d %s", a.status, a.raw)
		}
	})
	t.Run("authentication, rate limit, method", func(t *testing.T) {
		g := newFixture(t)
		if a := call(t, g.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(g.ann.ID), "x"), creds{}); a.status != 401 {
			t.Errorf("no credentials: %d", a.status)
		}
		g.srv.SetRateLimit(1, time.Minute)
		if a := call(t, g.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(g.ann.ID), "x"), g.as(g.owner)); a.status != 200 {
			t.Errorf("first: %d %s", a.status, a.raw)
		}
		if a := call(t, g.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(g.ann.ID), "x"), g.as(g.owner)); a.status != 429 {
			t.Errorf("over the limit: %d %s", a.status, a.raw)
		}
		if n := len(g.srv.DirectMessages()); n != 1 {
			t.Errorf("%d messages recorded, want 1", n)
		}
		if a := call(t, g.srv, http.MethodGet, "/api/v1/messages", nil, g.as(g.owner)); a.status != 405 {
			t.Errorf("GET: %d", a.status)
		}
	})
	t.Run("long content is truncated", func(t *testing.T) {
		g := newFixture(t)
		long := strings.Repeat("é", maxMessageLength+1)
		if a := call(t, g.srv, http.MethodPost, "/api/v1/messages", dmForm(idList(g.ann.ID), long), g.as(g.owner)); a.status != 200 {
			t.Fatalf("got %d %s", a.status, a.raw)
		}
		got := g.srv.DirectMessages()[0].Content
		if n := len([]rune(got)); n != maxMessageLength || !strings.HasSuffix(got, "\n[message truncated]") {
			t.Errorf("stored %d characters ending %q", n, got[len(got)-25:])
		}
	})
}

func replaceTo(form url.Values, from, to string) url.Values {
	out := url.Values{}
	for k, v := range form {
		for _, s := range v {
			out.Add(k, strings.ReplaceAll(s, from, to))
		}
	}
	return out
}
