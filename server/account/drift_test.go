package account

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// pagedMattermost records the pages read and can fail one.
type pagedMattermost struct {
	*fakeMattermost
	pages    []string // "page/perPage"
	failPage int      // -1: none
}

func (m *pagedMattermost) ListUsers(page, perPage int) ([]User, error) {
	m.pages = append(m.pages, fmt.Sprintf("%d/%d", page, perPage))
	if page == m.failPage {
		return nil, errors.New("database down")
	}
	return m.fakeMattermost.ListUsers(page, perPage)
}

// driftService is the harness's service with m as Mattermost.
func driftService(h *harness, m Mattermost) *Service {
	d := h.deps(h.z)
	d.Mattermost = m
	o := h.opts
	o.Now = h.clock.now
	return newTestService(d, o)
}

const ex = "@example.org"

// driftBed has one pair of every kind (see TestDrift's rows).
func driftBed() *harness {
	u := func(id, name, email string, edit ...func(*User)) User {
		x := User{ID: id, Username: name, Email: email + ex, EmailVerified: true}
		for _, e := range edit {
			e(&x)
		}
		return x
	}
	off := func(x *User) { x.Deactivated = true }
	users := []User{
		u("admin", "root", "root"),
		u("u1", "ann", "ann"), u("u2", "bob", "bob.new"), u("u3", "cat", "cat"), u("u4", "dan", "dan.new"),
		u("u5", "eve", "eve.m"), u("u6", "fay", "fay"), u("u7", "gil", "gil"), u("u8", "gus", "gus"),
		u("u9", "hal", "hal", off), u("u10", "ivy", "ivy"), u("u11", "jon", "jon.new"), u("u12", "kim", "kim"),
		u("u13", "lea", "lea", func(x *User) { x.EmailVerified = false }), u("u14", "mia", "mia"),
		// Nia has the address of Zulip account 22, which Ned (read after her) is linked to.
		u("u16", "nia", "ned"), u("u15", "ned", "ned.m"),
		u("u17", "abot", "abot", func(x *User) { x.IsBot = true }), u("u18", "sam", "sam", off), u("u19", "ted", "ted", off),
	}
	var addrs []string
	for _, a := range []string{"ann", "bob", "cat.z", "dan.new", "eve.z", "fay.z", "gil", "hal", "ivy", "jon", "kim", "lea", "ned", "oscar", "pia", "bot2", "quinn", "sam"} {
		addrs = append(addrs, a+ex) // Zulip ids 10 to 27, in this order
	}
	h := newHarness(users, addrs...)
	h.mm.admins["admin"] = true
	h.z.accounts[16].inactive = true // gil
	h.z.accounts[18].hidden = true   // ivy
	h.z.accounts[24].hidden = true   // pia
	h.z.accounts[25].bot = true      // bot2
	h.z.accounts[26].inactive = true // quinn
	link := func(user string, zid int, agreed string) Link {
		if agreed != "" {
			agreed += ex
		}
		return Link{UserID: user, ZulipUserID: zid, Method: LinkCodeMethod, AgreedEmail: agreed}
	}
	h.links = newMemLinks(link("u1", 10, "ann"), link("u2", 11, "bob"), link("u3", 12, "cat"), link("u4", 13, "dan"),
		link("u5", 14, "eve"), link("u6", 15, ""), link("u7", 16, "gil"), link("u8", 99, "gus"), link("u9", 17, "hal"),
		link("u10", 18, "ivy"), link("u11", 19, "jon"), link("u15", 22, "ned"))
	h.rec.byID = map[string]Change{"c1": {ID: "c1", UserID: "u11", State: StateMattermostChanged}}
	return h
}

// The report lists one row of every kind, with both systems' facts, reads
// Zulip once and changes nothing anywhere.
func TestDrift(t *testing.T) {
	h := driftBed()
	linksBefore := maps.Clone(h.links.byUser)
	rep, f := h.service().Drift(context.Background(), "admin", "s-admin")
	if f != nil {
		t.Fatalf("failure %v", f)
	}
	row := func(kind DriftKind, user, name, email string, zid int, zemail, agreed string) DriftRow {
		r := DriftRow{UserID: user, Username: name, ZulipUserID: zid, Kind: kind}
		for dst, v := range map[*string]string{&r.Email: email, &r.ZulipEmail: zemail, &r.AgreedEmail: agreed} {
			if v != "" {
				*dst = v + ex
			}
		}
		return r
	}
	hiddenIvy := row(DriftZulipHidden, "u10", "ivy", "ivy", 18, "", "ivy")
	hiddenIvy.ZulipEmail = "user18@zulip.test"
	hiddenPia := row(DriftNoMattermostUser, "", "", "", 24, "", "")
	hiddenPia.ZulipEmail = "user24@zulip.test"
	want := []DriftRow{
		row(DriftBothChangedDifferent, "u5", "eve", "eve.m", 14, "eve.z", "eve"),
		row(DriftAgreedUnknown, "u6", "fay", "fay", 15, "fay.z", ""),
		row(DriftMattermostChanged, "u2", "bob", "bob.new", 11, "bob", "bob"),
		row(DriftMattermostChanged, "u15", "ned", "ned.m", 22, "ned", "ned"),
		row(DriftZulipChanged, "u3", "cat", "cat", 12, "cat.z", "cat"),
		row(DriftBothChangedSame, "u4", "dan", "dan.new", 13, "dan.new", "dan"),
		row(DriftZulipInactive, "u7", "gil", "gil", 16, "gil", "gil"),
		row(DriftZulipInactive, "u8", "gus", "gus", 99, "", "gus"),
		row(DriftMattermostInactive, "u9", "hal", "hal", 17, "hal", "hal"),
		row(DriftMattermostInactive, "u18", "sam", "sam", 27, "sam", ""),
		hiddenIvy,
		row(DriftOpenChange, "u11", "jon", "jon.new", 19, "jon", "jon"),
		row(DriftWouldLink, "u12", "kim", "kim", 20, "kim", ""),
		row(DriftWouldLinkUnverified, "u13", "lea", "lea", 21, "lea", ""),
		row(DriftNoZulipAccount, "u14", "mia", "mia", 0, "", ""),
		row(DriftNoZulipAccount, "u16", "nia", "ned", 22, "ned", ""), // linked to Ned: not free
		row(DriftNoZulipAccount, "admin", "root", "root", 0, "", ""),
		row(DriftNoMattermostUser, "", "", "", 23, "oscar", ""),
		hiddenPia,
	}
	if !reflect.DeepEqual(rep.Rows, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", rowsText(rep.Rows), rowsText(want))
	}
	wantCounts := map[DriftKind]int{}
	for _, r := range want {
		wantCounts[r.Kind]++
	}
	if !maps.Equal(rep.Counts, wantCounts) || rep.MattermostUsers != 20 || rep.ZulipUsers != 18 {
		t.Errorf("counts %v (want %v), %d Mattermost users, %d Zulip users", rep.Counts, wantCounts, rep.MattermostUsers, rep.ZulipUsers)
	}
	// Read-only: one Zulip request, nothing changed in either system.
	if !slices.Equal(h.z.reqs, []string{"users"}) || len(h.z.patches) != 0 || len(h.z.dms) != 0 {
		t.Errorf("Zulip requests %v, patches %v, messages %v", h.z.reqs, h.z.patches, h.z.dms)
	}
	if len(h.mm.updates) != 0 || !maps.Equal(h.links.byUser, linksBefore) || len(h.links.byZulip) != len(linksBefore) || len(h.rec.saved) != 0 || len(h.notes.sent) != 0 {
		t.Errorf("something changed: updates %v, links %v, records %d, notices %v", h.mm.updates, h.links.byUser, len(h.rec.saved), h.notes.sent)
	}
}

func rowsText(rows []DriftRow) string {
	s := ""
	for _, r := range rows {
		s += fmt.Sprintf("  %+v\n", r)
	}
	return s
}

// Whatever the number of users, Zulip is asked once and Mattermost page
// by page; a user read before the one linked to "their" Zulip account is
// still told apart from a user who would be linked.
func TestDriftReadsZulipOnceAndMattermostByPage(t *testing.T) {
	var users []User
	var addrs []string
	var links []Link
	for i := range 450 {
		id, addr := "f"+strconv.Itoa(i), "f"+strconv.Itoa(i)+ex
		users = append(users, User{ID: id, Username: id, Email: addr, EmailVerified: true})
		addrs = append(addrs, addr)
		links = append(links, Link{UserID: id, ZulipUserID: 10 + i, AgreedEmail: addr})
	}
	// Nia (page 0) has the address of the Zulip account Ned (page 2) is linked to.
	users = slices.Insert(users, 1, User{ID: "nia", Username: "nia", Email: "ned" + ex, EmailVerified: true})
	users = append(users, User{ID: "ned", Username: "ned", Email: "ned.m" + ex, EmailVerified: true}, User{ID: "abot", Username: "abot", Email: "abot" + ex, IsBot: true})
	addrs = append(addrs, "ned"+ex) // id 460
	links = append(links, Link{UserID: "ned", ZulipUserID: 460, AgreedEmail: "ned" + ex})
	h := newHarness(users, addrs...)
	h.mm.add(User{ID: "boss", Username: "boss", Email: "boss" + ex, EmailVerified: true})
	h.mm.admins["boss"] = true
	h.links = newMemLinks(links...)
	pm := &pagedMattermost{fakeMattermost: h.mm, failPage: -1}

	rep, f := driftService(h, pm).Drift(context.Background(), "boss", "s-boss")
	if f != nil {
		t.Fatal(f)
	}
	if !slices.Equal(h.z.reqs, []string{"users"}) {
		t.Errorf("Zulip requests %v, want one GET /users", h.z.reqs)
	}
	if want := []string{"0/200", "1/200", "2/200"}; !slices.Equal(pm.pages, want) {
		t.Errorf("Mattermost pages read %v, want %v", pm.pages, want)
	}
	want := []DriftRow{
		{UserID: "ned", Username: "ned", Email: "ned.m" + ex, ZulipUserID: 460, ZulipEmail: "ned" + ex, AgreedEmail: "ned" + ex, Kind: DriftMattermostChanged},
		{UserID: "boss", Username: "boss", Email: "boss" + ex, Kind: DriftNoZulipAccount},
		{UserID: "nia", Username: "nia", Email: "ned" + ex, ZulipUserID: 460, ZulipEmail: "ned" + ex, Kind: DriftNoZulipAccount},
	}
	if !reflect.DeepEqual(rep.Rows, want) || rep.MattermostUsers != 454 || rep.ZulipUsers != 451 {
		t.Errorf("rows:\n%s\nwant:\n%s%d Mattermost users, %d Zulip users", rowsText(rep.Rows), rowsText(want), rep.MattermostUsers, rep.ZulipUsers)
	}
}

// Only a system admin's own session, never an OAuth 2.0 app's, gets the
// report; Zulip is not asked otherwise.
func TestDriftIsForAdmins(t *testing.T) {
	h := driftBed()
	h.mm.sessions["oauth-admin"] = Session{UserID: "admin", IsOAuth: true}
	h.mm.sessions["pat-admin"] = Session{UserID: "admin", IsAccessToken: true}
	h.opts.AllowOAuth = true
	svc := h.service()
	for _, tc := range []struct {
		user, session string
		want          Code
	}{
		{"u1", "s-u1", CodeAdminOnly},
		{"admin", "oauth-admin", CodeOAuthRefusedAdmin},
		{"admin", "s-u1", CodeSessionUnknown},
		{"admin", "", CodeSessionUnknown},
	} {
		rep, f := svc.Drift(context.Background(), tc.user, tc.session)
		if f == nil || f.Code != tc.want || rep.Rows != nil || rep.Counts != nil {
			t.Errorf("%s with %q: %v, %+v; want %s", tc.user, tc.session, f, rep, tc.want)
		}
	}
	if h.z.calls != 0 {
		t.Fatalf("Zulip was asked: %v", h.z.reqs)
	}
	if _, f := svc.Drift(context.Background(), "admin", "pat-admin"); f != nil {
		t.Errorf("the admin's personal access token: %v", f)
	}
}

// A report that cannot be whole is no report: the failure says why.
func TestDriftFailures(t *testing.T) {
	ctx := context.Background()
	h := driftBed()
	h.opts.SyncZulip = false
	if _, f := h.service().Drift(ctx, "admin", "s-admin"); f == nil || f.Code != CodeZulipNotConfigured || h.z.calls != 0 {
		t.Errorf("sync off: %v, Zulip calls %d", f, h.z.calls)
	}

	h = driftBed()
	h.z.errs["users"] = errDown
	if rep, f := h.service().Drift(ctx, "admin", "s-admin"); f == nil || f.Code != CodeZulipUnavailable || rep.Rows != nil {
		t.Errorf("Zulip down: %v %+v", f, rep)
	}

	h = driftBed()
	h.z.errs["users"] = errUnauth
	if _, f := h.service().Drift(ctx, "admin", "s-admin"); f == nil || f.Code != CodeZulipUnauthorized {
		t.Errorf("bad credentials: %v", f)
	}

	h = driftBed()
	pm := &pagedMattermost{fakeMattermost: h.mm, failPage: 0}
	if rep, f := driftService(h, pm).Drift(ctx, "admin", "s-admin"); f == nil || f.Code != CodeMattermostFailed || rep.Rows != nil {
		t.Errorf("Mattermost failing: %v %+v", f, rep)
	}

	h = driftBed()
	h.links.err = errors.New("kv down")
	if rep, f := h.service().Drift(ctx, "admin", "s-admin"); f == nil || f.Code != CodeInternal || rep.Rows != nil {
		t.Errorf("links unreadable: %v %+v", f, rep)
	}
}
