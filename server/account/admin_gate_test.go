package account

import (
	"context"
	"testing"
)

// An OAuth 2.0 app holding an admin's token gets none of the admin's
// powers, even with Allow OAuth 2.0 apps on: nobody's email changes,
// nothing is linked, Zulip is not asked. A personal access token (an
// admin's script) still works under the setting, and the admin's own
// change through an OAuth app stays as the setting says.
func TestAdminActionsRefuseOAuth(t *testing.T) {
	h := newHarness([]User{annUser(), {ID: "boss", Username: "boss", Email: "boss@example.org", EmailVerified: true}}, ann, "boss@example.org")
	h.mm.admins["boss"] = true
	h.mm.sessions["oauth-boss"] = Session{UserID: "boss", IsOAuth: true}
	h.mm.sessions["pat-boss"] = Session{UserID: "boss", IsAccessToken: true}
	h.opts.AllowOAuth = true
	svc := h.service()
	ctx := context.Background()

	res := svc.ChangeEmail(ctx, Request{UserID: "u1", ActorID: "boss", SessionID: "oauth-boss", NewEmail: annNew})
	if res.Failure == nil || res.Failure.Code != CodeOAuthRefusedAdmin || res.Change.State != StateRefused {
		t.Fatalf("another user's email through an OAuth app: %s %v", res.Change.State, res.Failure)
	}
	if h.mm.users["u1"].Email != ann || len(h.mm.updates) != 0 || len(h.z.patches) != 0 || len(h.rec.saved) != 0 || len(h.notes.sent) != 0 {
		t.Fatalf("something changed: email %s, updates %v, patches %v, records %d, notices %v",
			h.mm.users["u1"].Email, h.mm.updates, h.z.patches, len(h.rec.saved), h.notes.sent)
	}
	if rep := svc.LinkAll(ctx, "boss", "oauth-boss", true); rep.Failure == nil || rep.Failure.Code != CodeOAuthRefusedAdmin || len(h.links.byUser) != 0 {
		t.Errorf("link-all through an OAuth app: %+v, links %v", rep, h.links.byUser)
	}
	if c := svc.CheckZulip(ctx, "boss", "oauth-boss", "", ""); c.Failure == nil || c.Failure.Code != CodeOAuthRefusedAdmin || len(c.Lines) != 0 {
		t.Errorf("zulip check through an OAuth app: %+v", c)
	}
	if f := svc.CheckAdmin("boss", "oauth-boss"); f == nil || f.Code != CodeOAuthRefusedAdmin {
		t.Errorf("CheckAdmin: %v", f)
	}
	if h.z.calls != 0 {
		t.Errorf("Zulip was asked %d times", h.z.calls)
	}

	// A non-admin is told it is for admins; the admin's own session passes.
	if f := svc.CheckAdmin("u1", "s-u1"); f == nil || f.Code != CodeAdminOnly {
		t.Errorf("CheckAdmin for a user: %v", f)
	}
	if f := svc.CheckAdmin("boss", "s-boss"); f != nil {
		t.Errorf("CheckAdmin for the admin's own session: %v", f)
	}

	// The admin's script, with a personal access token.
	res = svc.ChangeEmail(ctx, Request{UserID: "u1", ActorID: "boss", SessionID: "pat-boss", NewEmail: annNew})
	if res.Change.State != StateDone || h.mm.users["u1"].Email != annNew || h.z.addrOf(10) != annNew || len(h.notes.sent) != 1 {
		t.Fatalf("with a personal access token: %s %v", res.Change.State, res.Failure)
	}
	// The admin's own email through an OAuth app: the setting decides.
	res = svc.ChangeEmail(ctx, Request{UserID: "boss", SessionID: "oauth-boss", NewEmail: "boss.new@example.org"})
	if res.Change.State != StateDone || h.mm.users["boss"].Email != "boss.new@example.org" {
		t.Fatalf("the admin's own change through an OAuth app: %s %v", res.Change.State, res.Failure)
	}

	// Tokens still need the setting.
	h.opts.AllowOAuth = false
	if f := h.service().CheckAdmin("boss", "pat-boss"); f == nil || f.Code != CodeTokenRefused {
		t.Errorf("a token with the setting off: %v", f)
	}
}
