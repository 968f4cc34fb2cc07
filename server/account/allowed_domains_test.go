package account

import (
	"context"
	"strings"
	"testing"
)

// An allowed-domains setting that cannot be used (entries that are not
// domains, or no domain at all) must not read as "any domain": every change
// is refused, users are told their admin must fix the setting, and nothing
// is changed or stored.
func TestInvalidAllowedDomainsRefuseEveryChange(t *testing.T) {
	boss := User{ID: "boss", Username: "boss", Email: "boss@example.org"}
	for _, tc := range []struct {
		name string
		r    Request
	}{
		{"an address in no domain of the list", req(annNew)},
		{"an address in the one valid domain", req("ann.new@example.org")},
		{"an admin's change for a user", Request{UserID: "u1", ActorID: "boss", SessionID: "s-boss", NewEmail: "ann.new@example.org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{annUser(), boss}, ann)
			h.mm.admins["boss"] = true
			h.opts.AllowedDomains = []string{"example.org"}
			h.opts.AllowedDomainsInvalid = []string{"; @@"}
			aud := &memAuditor{}
			h.auditor = aud
			res := h.service().ChangeEmail(context.Background(), tc.r)
			if res.Failure == nil || res.Failure.Code != CodeDomainsMisconfigured || res.Change.State != StateRefused {
				t.Fatalf("%s %v", res.Change.State, res.Failure)
			}
			if h.mm.gets != 0 || len(h.mm.updates) != 0 || h.z.calls != 0 || len(h.rec.saved) != 0 || len(h.usage.usage) != 0 || len(h.notes.sent) != 0 {
				t.Errorf("touched something: %d Mattermost reads, updates %v, %d Zulip calls, %d records, usage %v, notes %v",
					h.mm.gets, h.mm.updates, h.z.calls, len(h.rec.saved), h.usage.usage, h.notes.sent)
			}
			if u, _ := h.mm.GetUser("u1"); u.Email != ann || h.z.addrOf(10) != ann {
				t.Errorf("emails now %q and %q", u.Email, h.z.addrOf(10))
			}
			if log := h.log.String(); !strings.Contains(log, "error account sync: email change refused") || !strings.Contains(log, "allowed_domains_invalid") || !strings.Contains(log, "; @@") {
				t.Errorf("the admin's log does not name the setting and its bad entry: %s", log)
			}
			if len(aud.events) != 1 || aud.events[0].Code != CodeDomainsMisconfigured || aud.events[0].Success {
				t.Errorf("audit %+v", aud.events)
			}
		})
	}
}

// /account zulip check names the bad setting first, whether or not Zulip
// works, and so does not find everything working (reply's tests word it).
func TestCheckZulipReportsInvalidAllowedDomains(t *testing.T) {
	for _, sync := range []bool{true, false} {
		h := newHarness([]User{annUser(), {ID: "boss", Username: "boss", Email: "boss@example.org"}}, ann)
		h.mm.admins["boss"] = true
		h.opts.SyncZulip = sync
		h.opts.AllowedDomainsInvalid = []string{"; @@", "x"}
		c := h.service().CheckZulip(context.Background(), "boss", "s-boss", "bot@zulip.example.org", "")
		if c.Failure != nil || len(c.Lines) == 0 {
			t.Fatalf("sync %v: %+v", sync, c)
		}
		first := c.Lines[0]
		if first.OK || first.Finding != FindingDomainsInvalid || strings.Join(first.Entries, ",") != "; @@,x" {
			t.Errorf("sync %v: first finding %+v", sync, first)
		}
		if last := c.Lines[len(c.Lines)-1]; sync && (!last.OK || last.Finding != FindingMayChangeEmails) {
			t.Errorf("the Zulip checks did not run on: %+v", c.Lines)
		}
	}
}
