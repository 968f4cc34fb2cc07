package account

import (
	"context"
	"testing"
)

// A linked Zulip account deactivated in Zulip is refused before Mattermost is
// touched, even when its address is the user's Mattermost email (Zulip
// itself would accept the change). Found in review of a shortcut that
// skipped reading the linked account; kept so it does not come back.
func TestLinkedAccountDeactivatedInZulipIsRefused(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	h.z.accounts[10].inactive = true
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeZulipAccountInactive {
		t.Errorf("failure = %v (state %s), want %s", res.Failure, res.Change.State, CodeZulipAccountInactive)
	}
	if h.mm.users["u1"].Email != ann || h.z.addrOf(10) != ann {
		t.Errorf("deactivated account changed: Mattermost %s, Zulip #10 %s", h.mm.users["u1"].Email, h.z.addrOf(10))
	}
}

// The linked account's address changed in Zulip, and another Zulip account
// now holds the user's Mattermost email: refused, whatever was seen before.
func TestLinkedAccountMovedInZulipAndEmailTakenIsRefused(t *testing.T) {
	h := newHarness([]User{annUser()}, "ann.elsewhere@example.org", ann) // #10 linked (address changed in Zulip), #11 someone else now holds ann
	h.links = newMemLinks(Link{UserID: "u1", ZulipUserID: 10, Method: LinkCodeMethod})
	res := h.service().ChangeEmail(context.Background(), req(annNew))
	if res.Failure == nil || res.Failure.Code != CodeZulipAccountMismatch {
		t.Errorf("failure = %v (state %s), want %s", res.Failure, res.Change.State, CodeZulipAccountMismatch)
	}
}
