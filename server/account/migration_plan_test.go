package account

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// planHarness: a system admin (root) and users at old.example, each
// standing where one reason of the plan applies. Zulip accounts get ids
// 10, 11, … in the order of the addresses given.
func planHarness(t *testing.T) *harness {
	t.Helper()
	u := func(id, email string) User {
		return User{ID: id, Username: id, Email: email, EmailVerified: true}
	}
	sso, off, bot, unv := u("sso", "sso@old.example"), u("off", "off@old.example"), u("bot", "bot@old.example"), u("unv", "unv@old.example")
	sso.AuthService, off.Deactivated, bot.IsBot, unv.EmailVerified = "saml", true, true, false
	users := []User{
		{ID: "root", Username: "root", Email: "root@example.com", EmailVerified: true},
		u("ok", "ok@old.example"),     // changes
		u("caps", "Caps@OLD.Example"), // changes: domains match ignoring case
		u("mmtaken", "mmtaken@old.example"), u("holder", "mmtaken@new.example"),
		u("ztaken", "ztaken@old.example"),
		sso, off,
		u("open", "open@old.example"),
		u("free", "free@old.example"), // not linked; link-all would link it
		unv,                           // not linked, unverified: link-all would not
		u("zoff", "zoff@old.example"),
		u("zdiff", "zdiff@old.example"),
		u("sub", "sub@sub.old.example"), // another domain
		bot,
		u("long", "a-very-long-local-part-that-is-fine@old.example"),
		u("bad", "invalid@old.example"), // the fake Mattermost refuses addresses holding "invalid"
	}
	h := newHarness(users,
		"ok@old.example", "caps@old.example", "mmtaken@old.example", "ztaken@old.example", "ztaken@new.example", // 10-14
		"sso@old.example", "open@old.example", "free@old.example", "unv@old.example", "zoff@old.example", // 15-19
		"zdiff.elsewhere@example.org", "zonly@old.example", "zonly.off@old.example", "zbot@old.example", "long@old.example", // 20-24
		"invalid@old.example") // 25
	h.mm.admins["root"] = true
	h.z.accounts[19].inactive = true
	h.z.accounts[22].inactive = true
	h.z.accounts[23].bot = true
	h.links = newMemLinks(
		Link{UserID: "ok", ZulipUserID: 10}, Link{UserID: "caps", ZulipUserID: 11}, Link{UserID: "mmtaken", ZulipUserID: 12},
		Link{UserID: "ztaken", ZulipUserID: 13}, Link{UserID: "sso", ZulipUserID: 15}, Link{UserID: "open", ZulipUserID: 16},
		Link{UserID: "zoff", ZulipUserID: 19}, Link{UserID: "zdiff", ZulipUserID: 20}, Link{UserID: "off", ZulipUserID: 99},
		Link{UserID: "long", ZulipUserID: 24}, Link{UserID: "bad", ZulipUserID: 25})
	h.z.accounts[24].addr = "a-very-long-local-part-that-is-fine@old.example"
	ch := Change{ID: "c0", UserID: "open", State: StateWaitingForZulip, NewEmail: "x@example.org", CreatedAt: h.clock.now()}
	if err := h.rec.SaveChange(context.Background(), &ch); err != nil {
		t.Fatal(err)
	}
	return h
}

// Issue 16: the plan lists every user at the old domain, to be changed or
// skipped with the reason, the Zulip accounts at the old domain that no
// Mattermost user has, and how many link-all would link; it changes
// nothing and costs one Zulip request.
func TestPlanMigration(t *testing.T) {
	h := planHarness(t)
	m, f := h.service().PlanMigration(context.Background(), "root", "s-root", " Old.Example ", "new.example")
	if f != nil {
		t.Fatalf("plan: %v", f)
	}
	got := map[string]MigrationItem{}
	for _, it := range m.Items {
		got[it.UserID] = it
	}
	want := map[string]MigrationItem{
		"ok":      {UserID: "ok", Username: "ok", OldEmail: "ok@old.example", NewEmail: "ok@new.example", ZulipUserID: 10},
		"caps":    {UserID: "caps", Username: "caps", OldEmail: "Caps@OLD.Example", NewEmail: "caps@new.example", ZulipUserID: 11},
		"mmtaken": {UserID: "mmtaken", Username: "mmtaken", OldEmail: "mmtaken@old.example", NewEmail: "mmtaken@new.example", ZulipUserID: 12, Skip: MigrateSkipTakenInMattermost},
		"ztaken":  {UserID: "ztaken", Username: "ztaken", OldEmail: "ztaken@old.example", NewEmail: "ztaken@new.example", ZulipUserID: 13, Skip: MigrateSkipTakenInZulip},
		"sso":     {UserID: "sso", Username: "sso", OldEmail: "sso@old.example", NewEmail: "sso@new.example", ZulipUserID: 15, Skip: MigrateSkipSSO},
		"off":     {UserID: "off", Username: "off", OldEmail: "off@old.example", NewEmail: "off@new.example", ZulipUserID: 99, Skip: MigrateSkipDeactivated},
		"open":    {UserID: "open", Username: "open", OldEmail: "open@old.example", NewEmail: "open@new.example", ZulipUserID: 16, Skip: MigrateSkipOpenChange},
		"free":    {UserID: "free", Username: "free", OldEmail: "free@old.example", NewEmail: "free@new.example", Skip: MigrateSkipNotLinked},
		"unv":     {UserID: "unv", Username: "unv", OldEmail: "unv@old.example", NewEmail: "unv@new.example", Skip: MigrateSkipNotLinked},
		"zoff":    {UserID: "zoff", Username: "zoff", OldEmail: "zoff@old.example", NewEmail: "zoff@new.example", ZulipUserID: 19, Skip: MigrateSkipZulipInactive},
		"zdiff":   {UserID: "zdiff", Username: "zdiff", OldEmail: "zdiff@old.example", NewEmail: "zdiff@new.example", ZulipUserID: 20, Skip: MigrateSkipZulipDiffers},
		"bad":     {UserID: "bad", Username: "bad", OldEmail: "invalid@old.example", NewEmail: "invalid@new.example", ZulipUserID: 25, Skip: MigrateSkipAddressRefused},
		"long": {UserID: "long", Username: "long", OldEmail: "a-very-long-local-part-that-is-fine@old.example",
			NewEmail: "a-very-long-local-part-that-is-fine@new.example", ZulipUserID: 24},
	}
	if !reflect.DeepEqual(got, want) {
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: %+v, want %+v", id, got[id], w)
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				t.Errorf("%s in the plan: %+v", id, got[id])
			}
		}
	}
	if m.ToChange() != 3 || m.WouldLink != 1 || m.From != "old.example" || m.To != "new.example" || m.State != MigrationPlanned || m.CreatedBy != "root" ||
		!m.CreatedAt.Equal(h.clock.now()) || m.Verification || m.RatePerMinute != 200 || m.RequestsPerUser != 1 || m.Estimate != 3*time.Minute/200 || !isChangeID(m.ID) {
		t.Errorf("plan %+v (to change %d)", m, m.ToChange())
	}
	if want := []ZulipOnlyAccount{{ZulipUserID: 21, Email: "zonly@old.example"}}; !reflect.DeepEqual(m.ZulipOnly, want) {
		t.Errorf("Zulip only %+v, want %+v", m.ZulipOnly, want)
	}
	if s := m.Skipped(); s[MigrateSkipNotLinked] != 2 || s[MigrateSkipSSO] != 1 || len(s) != 9 {
		t.Errorf("skipped %v", s)
	}
	if got := h.z.reqs; len(got) != 1 || got[0] != "users" {
		t.Errorf("Zulip requests %v, want one list", got)
	}
	if len(h.notes.sent) != 1 || h.notes.sent[0].userID != "root" || h.notes.sent[0].n.Kind != NoticeMigrationPlan || h.notes.sent[0].n.Migration.ID != m.ID {
		t.Errorf("the admin was not sent the plan: %v", h.notes.sent)
	}
	if len(h.mm.updates) != 0 || len(h.z.patches) != 0 || len(h.rec.saved) != 1 {
		t.Errorf("the plan changed something: updates %v, patches %v, saves %d, notes %v", h.mm.updates, h.z.patches, len(h.rec.saved), h.notes.sent)
	}
	read, f := h.service().Migration("root", "s-root", m.ID)
	if f != nil || !reflect.DeepEqual(read, m) {
		t.Errorf("read back %v: %+v", f, read)
	}
}

// With Require Email Verification the plan says each user gets a link.
func TestPlanMigrationWithVerification(t *testing.T) {
	h := planHarness(t)
	h.mm.verify = true
	if m, f := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example"); f != nil || !m.Verification {
		t.Errorf("plan %v: verification %v", f, m.Verification)
	}
}

// Who may plan or read, and what is refused before anything is read.
func TestPlanMigrationRefusals(t *testing.T) {
	for _, tc := range []struct {
		name           string
		setup          func(h *harness)
		actor, session string
		from, to       string
		code           Code
	}{
		{"not an admin", nil, "ok", "s-ok", "old.example", "new.example", CodeAdminOnly},
		{"another's session", nil, "root", "s-ok", "old.example", "new.example", CodeSessionUnknown},
		{"an OAuth app", func(h *harness) { h.mm.sessions["s-root"] = Session{UserID: "root", IsOAuth: true} }, "root", "s-root", "old.example", "new.example", CodeOAuthRefusedAdmin},
		{"an address for a domain", nil, "root", "s-root", "ok@old.example", "new.example", CodeMigrationDomain},
		{"not a domain", nil, "root", "s-root", "old.example", "new_example", CodeMigrationDomain},
		{"the same domain", nil, "root", "s-root", "old.example", "OLD.example", CodeMigrationDomain},
		{"outside the allowed domains", func(h *harness) { h.opts.AllowedDomains = []string{"old.example"} }, "root", "s-root", "old.example", "new.example", CodeDomainNotAllowed},
		{"sync off", func(h *harness) { h.opts.SyncZulip = false }, "root", "s-root", "old.example", "new.example", CodeZulipNotConfigured},
		{"Zulip down", func(h *harness) { h.z.errs["users"] = errDown }, "root", "s-root", "old.example", "new.example", CodeZulipUnavailable},
		{"not saved", func(h *harness) { h.migrations.err = errDown }, "root", "s-root", "old.example", "new.example", CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := planHarness(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			m, f := h.service().PlanMigration(context.Background(), tc.actor, tc.session, tc.from, tc.to)
			if f == nil || f.Code != tc.code || m.ID != "" {
				t.Fatalf("plan %+v, failure %v, want %s", m, f, tc.code)
			}
			if len(h.migrations.byID) != 0 {
				t.Errorf("saved %v", h.migrations.byID)
			}
		})
	}
	h := planHarness(t)
	m, _ := h.service().PlanMigration(context.Background(), "root", "s-root", "old.example", "new.example")
	if _, f := h.service().Migration("ok", "s-ok", m.ID); f == nil || f.Code != CodeAdminOnly {
		t.Errorf("a user read a migration: %v", f)
	}
	// Only ids of the plan's own form reach the store (a key holding
	// "_items_" would read a chunk as a migration).
	for _, id := range []string{"nope", m.ID + "_items_0", "ABCDEF0123456789abcdef01"} {
		h.migrations.byID[id] = m
	}
	for _, id := range []string{"nope", m.ID + "_items_0", "", "ABCDEF0123456789abcdef01"} {
		if _, f := h.service().Migration("root", "s-root", id); f == nil || f.Code != CodeMigrationNotFound {
			t.Errorf("migration %q: %v", id, f)
		}
	}
}
