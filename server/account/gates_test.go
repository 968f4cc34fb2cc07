package account

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestSessionGate(t *testing.T) {
	tests := []struct {
		name     string
		session  string
		sessions map[string]Session
		allow    bool
		wantCode Code
	}{
		{name: "the caller's own plain session", session: "s-u1"},
		{name: "no session", session: "", wantCode: CodeSessionUnknown},
		{name: "unknown session", session: "nope", wantCode: CodeSessionUnknown},
		{name: "someone else's session", session: "s-u2", sessions: map[string]Session{"s-u2": {UserID: "u2"}}, wantCode: CodeSessionUnknown},
		{name: "OAuth app refused by default", session: "oauth", sessions: map[string]Session{"oauth": {UserID: "u1", IsOAuth: true}},
			wantCode: CodeOAuthRefused},
		{name: "OAuth app allowed by the setting", session: "oauth", sessions: map[string]Session{"oauth": {UserID: "u1", IsOAuth: true}}, allow: true},
		{name: "personal access token refused by default", session: "pat", sessions: map[string]Session{"pat": {UserID: "u1", IsAccessToken: true}},
			wantCode: CodeTokenRefused},
		{name: "personal access token allowed by the setting", session: "pat", sessions: map[string]Session{"pat": {UserID: "u1", IsAccessToken: true}}, allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann)
			for id, s := range tc.sessions {
				h.mm.sessions[id] = s
			}
			h.opts.AllowOAuth = tc.allow
			res := h.service().ChangeEmail(context.Background(), Request{UserID: "u1", SessionID: tc.session, NewEmail: annNew})
			got := Code("")
			if res.Failure != nil {
				got = res.Failure.Code
			}
			if got != tc.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tc.wantCode, res.Failure)
			}
			if tc.wantCode == "" {
				if h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew {
					t.Errorf("not changed: mm %s zulip %s", h.mm.users["u1"].Email, h.z.addrOf(10))
				}
				return
			}
			// Refused before anything: no lock, no read, no Zulip call, no record.
			if len(h.mm.updates) != 0 || len(h.z.patches) != 0 || h.mm.gets != 0 || len(h.rec.saved) != 0 {
				t.Errorf("the gate let something through: updates %v patches %v gets %d records %d", h.mm.updates, h.z.patches, h.mm.gets, len(h.rec.saved))
			}
			if res.Change.State != StateRefused {
				t.Errorf("state %s, want refused", res.Change.State)
			}
		})
	}
}

func TestDailyLimit(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.MaxChangesPerDay = 2
	svc := h.service()
	start := h.clock.t
	for i, addr := range []string{"a1@example.org", "a2@example.org"} {
		if res := svc.ChangeEmail(context.Background(), req(addr)); res.Change.State != StateDone {
			t.Fatalf("change %d: %s %v", i, res.Change.State, res.Failure)
		}
		h.clock.advance(time.Hour)
	}
	// A refused request does not count as a change.
	if res := svc.ChangeEmail(context.Background(), req("a2@example.org")); res.Failure == nil || res.Failure.Code != CodeSameAddress {
		t.Fatalf("same address: %v", res.Failure)
	}
	res := svc.ChangeEmail(context.Background(), req("a3@example.org"))
	if res.Failure == nil || res.Failure.Code != CodeLimitReached {
		t.Fatalf("third change: %v, want the limit", res.Failure)
	}
	if want := start.Add(24 * time.Hour); !res.Failure.Until.Equal(want) {
		t.Errorf("next change allowed at %s, want %s", res.Failure.Until, want)
	}
	// The reply says when, from the time of the refusal (reply's TestEmailReplies).
	if res.Failure.Limit != 2 || res.Change.State != StateRefused || !res.Change.UpdatedAt.Equal(start.Add(2*time.Hour)) {
		t.Errorf("limit %d, state %s, at %s", res.Failure.Limit, res.Change.State, res.Change.UpdatedAt)
	}
	if h.mm.users["u1"].Email != "a2@example.org" || h.z.addrOf(10) != "a2@example.org" {
		t.Errorf("the refused change changed something")
	}

	h.clock.t = start.Add(24*time.Hour + time.Second)
	if res := svc.ChangeEmail(context.Background(), req("a3@example.org")); res.Change.State != StateDone {
		t.Errorf("after the window: %s %v", res.Change.State, res.Failure)
	}
}

func TestLimitCountsPendingVerificationAndSparesAdmins(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.MaxChangesPerDay = 1
	h.mm.verify = true
	svc := h.service()
	first := svc.ChangeEmail(context.Background(), req(annNew))
	if first.Change.State != StatePendingVerification {
		t.Fatalf("first: %s", first.Change.State)
	}
	// While it is open, it blocks the next one; once closed, it still
	// counts against the limit.
	if res := svc.ChangeEmail(context.Background(), req("other@example.org")); res.Failure == nil || res.Failure.Code != CodeChangeOpen {
		t.Fatalf("second while the first is open: %v, want %s", res.Failure, CodeChangeOpen)
	}
	closed := h.rec.byID[first.Change.ID]
	closed.State = StateExpired
	h.rec.byID[first.Change.ID] = closed
	if res := svc.ChangeEmail(context.Background(), req("other@example.org")); res.Failure == nil || res.Failure.Code != CodeLimitReached {
		t.Fatalf("second: %v, want the limit", res.Failure)
	}
	h.mm.admins["u1"] = true
	if res := svc.ChangeEmail(context.Background(), req("other@example.org")); res.Failure != nil {
		t.Errorf("an admin was limited: %v", res.Failure)
	}
}

func TestZeroMeansNoLimit(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.MaxChangesPerDay = 0
	svc := h.service()
	for i := range 8 {
		if res := svc.ChangeEmail(context.Background(), req("a"+string(rune('a'+i))+"@example.org")); res.Change.State != StateDone {
			t.Fatalf("change %d: %v", i, res.Failure)
		}
	}
}

func TestAttemptsReachingZulipAreLimited(t *testing.T) {
	h := newHarness([]User{annUser()}, ann, annNew) // annNew is taken in Zulip: every try is refused there
	svc := h.service()
	for i := range MaxAttemptsPerHour {
		if res := svc.ChangeEmail(context.Background(), req(annNew)); res.Failure == nil || res.Failure.Code != CodeTakenInZulip {
			t.Fatalf("try %d: %v", i, res.Failure)
		}
	}
	calls := h.z.calls
	res := svc.ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeTooManyAttempts {
		t.Fatalf("try %d: %v, want too many attempts", MaxAttemptsPerHour+1, res.Failure)
	}
	if res.Failure.Limit != 20 {
		t.Errorf("limit %d, want 20", res.Failure.Limit)
	}
	if h.z.calls != calls {
		t.Errorf("Zulip was asked after the limit")
	}
	h.clock.advance(time.Hour + time.Second)
	if res := svc.ChangeEmail(context.Background(), req(annNew)); res.Failure == nil || res.Failure.Code != CodeTakenInZulip {
		t.Errorf("after an hour: %v", res.Failure)
	}
}

// Every command that changes a link or a change passes the same session
// gate as /account email: an OAuth app or a token holding the user's session
// can neither link a Zulip account of its choosing, nor unlink, cancel or
// link everyone.
func TestEveryCommandPassesTheSessionGate(t *testing.T) {
	for _, sess := range []struct {
		name string
		s    Session
		code Code
	}{
		{"OAuth app", Session{UserID: "u1", IsOAuth: true}, CodeOAuthRefused},
		{"access token", Session{UserID: "u1", IsAccessToken: true}, CodeTokenRefused},
		{"someone else's session", Session{UserID: "u2"}, CodeSessionUnknown},
	} {
		t.Run(sess.name, func(t *testing.T) {
			h := newHarness([]User{annUser()}, ann, "attacker@example.org")
			h.mm.admins["u1"] = true
			h.mm.sessions["x"] = sess.s
			svc := h.service()
			if lr := svc.Link(context.Background(), "u1", "x", "attacker@example.org"); lr.Failure == nil || lr.Failure.Code != sess.code || len(h.z.dms) != 0 {
				t.Errorf("link: %+v, %d DMs", lr, len(h.z.dms))
			}
			if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail}); err != nil {
				t.Fatal(err)
			}
			if lr := svc.Unlink(context.Background(), "u1", "x"); lr.Failure == nil || lr.Failure.Code != sess.code {
				t.Errorf("unlink: %+v", lr)
			}
			if _, ok, _ := h.links.Link("u1"); !ok {
				t.Error("unlinked through a refused session")
			}
			adminCode := sess.code // an admin's command refuses OAuth apps whatever the setting (TestAdminActionsRefuseOAuth)
			if sess.s.IsOAuth {
				adminCode = CodeOAuthRefusedAdmin
			}
			if rep := svc.LinkAll(context.Background(), "u1", "x", true); rep.Failure == nil || rep.Failure.Code != adminCode {
				t.Errorf("link-all: %+v", rep)
			}
			waitingChange(t, h)
			if cr := svc.Cancel(context.Background(), "u1", "x"); cr.Outcome != CancelOutcomeRefused || cr.Failure.Code != sess.code {
				t.Errorf("cancel: %+v", cr)
			}
			if latest, _, _ := h.rec.LatestChange("u1"); latest.State != StateWaitingForZulip {
				t.Errorf("cancelled through a refused session: %s", latest.State)
			}
		})
	}
}

// Looking up addresses for link codes counts against the hourly attempts,
// found or not: one user cannot spend the bot's rate limit through it.
func TestLinkLookupsAreLimited(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	svc := h.service()
	for i := range MaxAttemptsPerHour {
		if lr := svc.Link(context.Background(), "u1", "s-u1", fmt.Sprintf("nobody%d@example.org", i)); lr.Outcome != LinkOutcomeNoZulipUser {
			t.Fatalf("lookup %d: %+v", i, lr)
		}
	}
	calls := h.z.calls
	lr := svc.Link(context.Background(), "u1", "s-u1", "nobody@example.org")
	if lr.Failure == nil || lr.Failure.Code != CodeTooManyAttempts || h.z.calls != calls {
		t.Errorf("lookup past the limit: %+v, %d more Zulip calls", lr, h.z.calls-calls)
	}
}

// An open change is tied to the linked Zulip account: unlinking waits.
func TestUnlinkWaitsForTheOpenChange(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	if err := h.links.AddLink(Link{UserID: "u1", ZulipUserID: 10, Method: LinkVerifiedEmail}); err != nil {
		t.Fatal(err)
	}
	waitingChange(t, h)
	lr := h.service().Unlink(context.Background(), "u1", "s-u1")
	if lr.Failure == nil || lr.Failure.Code != CodeChangeOpen || lr.Open == nil || lr.Open.NewEmail != annNew {
		t.Errorf("unlink with an open change: %+v", lr)
	}
	if _, ok, _ := h.links.Link("u1"); !ok {
		t.Error("unlinked")
	}
}

// A system admin may change another user's email; the user is told who did
// it. Anyone else is refused before anything happens.
func TestChangeOnBehalf(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "boss", Username: "boss", Email: "boss@example.org", EmailVerified: true}, {ID: "u3", Username: "cy", Email: "cy@example.org"}}, ann)
	h.mm.admins["boss"] = true
	res := h.service().ChangeEmail(context.Background(), Request{UserID: "u1", ActorID: "u3", SessionID: "s-u3", NewEmail: annNew})
	if res.Failure == nil || res.Failure.Code != CodeAdminOnly || h.mm.users["u1"].Email != ann || len(h.notes.sent) != 0 {
		t.Fatalf("non-admin on behalf: %v", res.Failure)
	}
	if res := h.service().ChangeEmail(context.Background(), Request{UserID: "u1", ActorID: "boss", SessionID: "s-u1", NewEmail: annNew}); res.Failure == nil || res.Failure.Code != CodeSessionUnknown {
		t.Fatalf("admin with the user's session: %v", res.Failure)
	}
	res = h.service().ChangeEmail(context.Background(), Request{UserID: "u1", ActorID: "boss", SessionID: "s-boss", NewEmail: annNew})
	if res.Change.State != StateDone || res.Change.RequestedBy != "boss" || res.Change.UserID != "u1" || h.z.addrOf(10) != annNew {
		t.Fatalf("admin on behalf: %+v %v", res.Change, res.Failure)
	}
	// The user is told who asked (reply's TestNoticeTexts words it).
	if len(h.notes.sent) != 1 || h.notes.sent[0].userID != "u1" || h.notes.sent[0].n.Kind != NoticeOnBehalf || h.notes.sent[0].n.Admin != "@boss" ||
		h.notes.sent[0].n.Result.Change.NewEmail != annNew || h.notes.sent[0].n.Result.Change.State != StateDone {
		t.Errorf("notice %+v", h.notes.sent)
	}
}

type memAuditor struct{ events []AuditEvent }

func (a *memAuditor) Audit(e AuditEvent) { a.events = append(a.events, e) }

// The plugin's allowed domains refuse other addresses before anything; every
// request and its outcome is audited.
func TestAllowedDomainsAndAudit(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.opts.AllowedDomains = []string{"example.org"}
	aud := &memAuditor{}
	h.auditor = aud
	res := h.service().ChangeEmail(context.Background(), req(annNew)) // ann@new.example.org: a subdomain is another domain
	if res.Failure == nil || res.Failure.Code != CodeDomainNotAllowed || h.mm.gets != 0 || len(h.rec.saved) != 0 {
		t.Fatalf("outside the allowed domains: %v", res.Failure)
	}
	res = h.service().ChangeEmail(context.Background(), req("Ann.New@Example.org"))
	if res.Change.State != StateDone {
		t.Fatalf("inside: %s %v", res.Change.State, res.Failure)
	}
	want := []AuditEvent{
		{ChangeID: aud.events[0].ChangeID, ActorID: "u1", UserID: "u1", NewEmail: annNew, Outcome: "refused", Code: CodeDomainNotAllowed},
		{ChangeID: res.Change.ID, ActorID: "u1", UserID: "u1", OldEmail: ann, NewEmail: "ann.new@example.org", Outcome: "done", Success: true,
			Mattermost: StatusChanged, Zulip: StatusChanged}, // where both stand, once recorded
	}
	if !reflect.DeepEqual(aud.events, want) {
		t.Errorf("audit events:\n%+v\nwant\n%+v", aud.events, want)
	}
}
