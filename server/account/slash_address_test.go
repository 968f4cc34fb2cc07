package account

import (
	"context"
	"strings"
	"testing"
)

// Zulip routes on the decoded path, so an address holding "/" can be neither
// checked nor found by email there (404). Such an address is refused up
// front, with a reason the user can act on, before either system is asked.
func TestSlashAddressRefusedBeforeEitherSystem(t *testing.T) {
	for _, sync := range []bool{true, false} {
		h := newHarness([]User{annUser()}, ann)
		h.opts.SyncZulip = sync
		res := h.service().ChangeEmail(context.Background(), req("Ann/New@example.org"))
		if res.Failure == nil || res.Failure.Code != CodeAddressSlash || res.Change.State != StateRefused {
			t.Fatalf("sync %v: %s %v", sync, res.Change.State, res.Failure)
		}
		if h.mm.gets != 0 || len(h.mm.updates) != 0 || h.z.calls != 0 || len(h.rec.saved) != 0 || len(h.usage.usage) != 0 {
			t.Errorf("sync %v: touched something: %d Mattermost reads, updates %v, %d Zulip calls, %d records, usage %v",
				sync, h.mm.gets, h.mm.updates, h.z.calls, len(h.rec.saved), h.usage.usage)
		}
		if u, _ := h.mm.GetUser("u1"); u.Email != ann || h.z.addrOf(10) != ann {
			t.Errorf("sync %v: emails now %q and %q", sync, u.Email, h.z.addrOf(10))
		}
		// The user's own choice, worded with what they typed (reply's
		// TestEmailReplies), never sent to the admin.
		if res.Input != "Ann/New@example.org" || res.Failure.Code.ForAdmin() {
			t.Errorf("sync %v: input %q, for admin %v", sync, res.Input, res.Failure.Code.ForAdmin())
		}
		if log := h.log.String(); !strings.Contains(log, "info account sync: email change refused") || !strings.Contains(log, "address_has_slash") {
			t.Errorf("sync %v: log %s", sync, log)
		}
	}
}

// /account link with such an address cannot find the account either: the
// user is told to give the id-based address instead, and Zulip is not asked.
func TestLinkWithSlashAddressRefused(t *testing.T) {
	h := newHarness([]User{annUser()}, "ann/x@example.org")
	res := h.service().Link(context.Background(), "u1", "s-u1", "ann/x@example.org")
	if res.Outcome != LinkOutcomeFailed || res.Failure == nil || res.Failure.Code != CodeAddressSlash {
		t.Fatalf("link: %+v", res)
	}
	if h.z.calls != 0 || len(h.z.dms) != 0 || len(h.codes.codes) != 0 {
		t.Errorf("Zulip calls %d, messages %v, codes %v", h.z.calls, h.z.dms, h.codes.codes)
	}
	if _, linked, _ := h.links.Link("u1"); linked {
		t.Error("linked")
	}
	if res.Input != "ann/x@example.org" {
		t.Errorf("input %q: the reply names what was typed", res.Input)
	}
}
