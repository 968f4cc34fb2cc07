package account

import (
	"context"
	"slices"
	"testing"
)

func TestLinkAll(t *testing.T) {
	users := []User{
		{ID: "admin", Username: "root", Email: "root@example.org", EmailVerified: true},
		{ID: "u1", Username: "ann", Email: "Ann@Example.org"}, // unverified: linked only when the admin says to trust it
		{ID: "u2", Username: "bob", Email: "bob@example.org", EmailVerified: true},
		{ID: "u3", Username: "cat", Email: "cat@example.org", EmailVerified: true},
		{ID: "u4", Username: "dan", Email: "dan@example.org", EmailVerified: true},
		{ID: "u5", Username: "eve", Email: "eve@example.org", EmailVerified: true},
		{ID: "u6", Username: "fay", Email: "fay@example.org", Deactivated: true},
		{ID: "u7", Username: "gil", Email: "gil@example.org", EmailVerified: true},
		{ID: "bot", Username: "abot", Email: "bot@example.org", IsBot: true},
	}
	h := newHarness(users, ann, "cat@example.org", "dan@example.org", "eve@example.org", "fay@example.org", "gil.z@example.org", "hid@example.org", "bot@example.org")
	h.z.accounts[11].bot = true      // cat
	h.z.accounts[12].inactive = true // dan
	h.links = newMemLinks(Link{UserID: "other", ZulipUserID: 13}, Link{UserID: "u7", ZulipUserID: 15, Method: LinkCodeMethod})
	h.mm.admins["admin"] = true
	svc := h.service()

	if rep := svc.LinkAll(context.Background(), "u1", "s-u1", false); rep.Failure == nil || rep.Failure.Code != CodeAdminOnly {
		t.Fatalf("non-admin: %+v", rep)
	}
	if len(h.links.byUser) != 2 {
		t.Fatal("a non-admin linked someone")
	}

	// By default an unverified email proves nothing: anyone may have typed it.
	first := svc.LinkAll(context.Background(), "admin", "s-admin", false)
	if first.Failure != nil || first.Linked != 0 || first.Unverified != 1 || len(h.links.byUser) != 2 {
		t.Fatalf("report without trust = %+v", first)
	}
	if !slices.Contains(first.Skipped, SkippedUser{Username: "ann", Email: "Ann@Example.org", Reason: SkipUnverified}) || first.Trusted {
		t.Errorf("report without trust = %+v", first)
	}

	rep := svc.LinkAll(context.Background(), "admin", "s-admin", true)
	if rep.Failure != nil || rep.Linked != 1 || rep.AlreadyLinked != 1 || !rep.Trusted {
		t.Fatalf("report = %+v", rep)
	}
	b, ok, _ := h.links.Link("u1")
	if !ok || b.ZulipUserID != 10 || b.Method != LinkAdmin || b.LinkedBy != "admin" || b.LinkedAt.IsZero() {
		t.Errorf("ann's link = %+v", b)
	}
	if b, _, _ := h.links.Link("u7"); b.ZulipUserID != 15 || b.Method != LinkCodeMethod {
		t.Errorf("an existing link changed: %+v", b)
	}
	want := map[string]SkipReason{
		"root": SkipNoZulipAccount, "bob": SkipNoZulipAccount, "cat": SkipZulipBot, "dan": SkipZulipInactive,
		"eve": SkipLinkedElsewhere, "fay": SkipDeactivated,
	}
	got := map[string]SkipReason{}
	for _, s := range rep.Skipped {
		got[s.Username] = s.Reason
	}
	if len(got) != len(want) {
		t.Errorf("skipped = %v, want %v", got, want)
	}
	for name, reason := range want {
		if got[name] != reason {
			t.Errorf("%s skipped for %q, want %q", name, got[name], reason)
		}
	}
	if !slices.Contains(rep.Skipped, SkippedUser{Username: "dan", Email: "dan@example.org", Reason: SkipZulipInactive}) {
		t.Errorf("dan's skip: %+v", rep.Skipped)
	}
	for _, s := range rep.Skipped {
		if s.Username == "abot" {
			t.Errorf("bots are listed: %+v", rep.Skipped)
		}
	}

	// Ann, linked by the admin, can change her email although unverified.
	if res := svc.ChangeEmail(context.Background(), req(annNew)); res.Change.State != StateDone || h.z.addrOf(10) != annNew {
		t.Errorf("after link-all: %s %v", res.Change.State, res.Failure)
	}
}

func TestLinkAllWhenZulipFails(t *testing.T) {
	h := newHarness([]User{{ID: "admin", Username: "root", Email: ann}}, ann)
	h.mm.admins["admin"] = true
	h.z.errs["users"] = errUnauth
	rep := h.service().LinkAll(context.Background(), "admin", "s-admin", false)
	if rep.Failure == nil || rep.Failure.Code != CodeZulipUnauthorized || len(h.links.byUser) != 0 {
		t.Fatalf("report = %+v", rep)
	}
}
