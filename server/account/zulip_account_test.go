package account

import (
	"context"
	"strings"
	"testing"
)

// Which Zulip account is the caller's: only a linked one, or one proven now.
func TestLinkDecidesTheZulipAccount(t *testing.T) {
	const (
		victim   = "owner@example.org" // a Zulip-only account: 11
		bobsAddr = "bob@example.org"
	)
	tests := []struct {
		name      string
		user      User
		zulip     []string // 10: first, 11: second, …
		setupZ    func(*fakeZulip)
		links     []Link
		wantCode  Code
		wantBound int      // Zulip id Ann is linked to afterwards (0: none)
		wantAddrs []string // addresses of accounts 10, 11 at the end
		wantLog   string
	}{
		{
			name: "verified matching email links automatically", user: annUser(), zulip: []string{ann},
			wantBound: 10, wantAddrs: []string{annNew},
		},
		{
			name: "unverified email is no proof", user: User{ID: "u1", Email: ann}, zulip: []string{ann},
			wantCode: CodeNotLinked, wantAddrs: []string{ann},
		},
		{
			name: "takeover: a Zulip-only user's address in the attacker's unverified profile", user: User{ID: "u1", Email: victim}, zulip: []string{ann, victim},
			wantCode: CodeNotLinked, wantAddrs: []string{ann, victim},
		},
		{
			name: "takeover: the id-based user{ID}@host address, even verified", user: User{ID: "u1", Email: "user11@zulip.test", EmailVerified: true}, zulip: []string{ann, victim},
			wantCode: CodeNotLinked, wantAddrs: []string{ann, victim},
		},
		{
			name: "Zulip hides the real address: no proof", user: annUser(), zulip: []string{ann},
			setupZ:   func(z *fakeZulip) { z.accounts[10].hidden = true },
			wantCode: CodeNotLinked, wantAddrs: []string{ann},
		},
		{
			name: "a deactivated Zulip account is not linked", user: annUser(), zulip: []string{ann},
			setupZ:   func(z *fakeZulip) { z.accounts[10].inactive = true },
			wantCode: CodeNotLinked, wantAddrs: []string{ann},
		},
		{
			name: "a Zulip bot is not linked", user: annUser(), zulip: []string{ann},
			setupZ:   func(z *fakeZulip) { z.accounts[10].bot = true },
			wantCode: CodeNotLinked, wantAddrs: []string{ann},
		},
		{
			name: "a Zulip account linked to someone else is not taken", user: annUser(), zulip: []string{ann},
			links:    []Link{{UserID: "u9", ZulipUserID: 10}},
			wantCode: CodeZulipLinkedElsewhere, wantAddrs: []string{ann},
		},
		{
			name: "linked: the email pointing at another Zulip account is refused and logged", user: User{ID: "u1", Email: bobsAddr}, zulip: []string{ann, bobsAddr},
			links:    []Link{{UserID: "u1", ZulipUserID: 10}},
			wantCode: CodeZulipAccountMismatch, wantBound: 10, wantAddrs: []string{ann, bobsAddr},
			wantLog: "linked_zulip_user_id 10 email_zulip_user_id 11",
		},
		{
			name: "linked with another address: the linked account is changed by id", user: User{ID: "u1", Email: "ann.mm@example.org"}, zulip: []string{ann},
			links:     []Link{{UserID: "u1", ZulipUserID: 10}},
			wantBound: 10, wantAddrs: []string{annNew},
		},
		{
			name: "linked to a hidden account: still changed by id", user: annUser(), zulip: []string{ann},
			setupZ:    func(z *fakeZulip) { z.accounts[10].hidden = true },
			links:     []Link{{UserID: "u1", ZulipUserID: 10}},
			wantBound: 10, wantAddrs: []string{annNew},
		},
		{
			name: "linked account deactivated: refused, link kept", user: annUser(), zulip: []string{ann},
			setupZ:   func(z *fakeZulip) { z.accounts[10].inactive = true },
			links:    []Link{{UserID: "u1", ZulipUserID: 10}},
			wantCode: CodeZulipAccountInactive, wantBound: 10, wantAddrs: []string{ann},
		},
		{
			name: "linked account gone: refused, the email's account is not taken instead", user: annUser(), zulip: []string{ann},
			links:    []Link{{UserID: "u1", ZulipUserID: 77}},
			wantCode: CodeZulipAccountInactive, wantBound: 77, wantAddrs: []string{ann},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness([]User{tc.user}, tc.zulip...)
			h.links = newMemLinks(tc.links...)
			if tc.setupZ != nil {
				tc.setupZ(h.z)
			}
			res := h.service().ChangeEmail(context.Background(), req(annNew))
			got := Code("")
			if res.Failure != nil {
				got = res.Failure.Code
			}
			if got != tc.wantCode {
				t.Errorf("code = %q, want %q (%v)", got, tc.wantCode, res.Failure)
			}
			b, linked, _ := h.links.Link("u1")
			if (tc.wantBound != 0) != linked || b.ZulipUserID != tc.wantBound {
				t.Errorf("link = %+v (linked %v), want Zulip %d", b, linked, tc.wantBound)
			}
			if tc.wantBound == 10 && len(tc.links) == 0 && (b.Method != LinkVerifiedEmail || b.LinkedAt.IsZero()) {
				t.Errorf("automatic link = %+v", b)
			}
			for i, want := range tc.wantAddrs {
				if got := h.z.addrOf(10 + i); got != want {
					t.Errorf("Zulip account %d has %q, want %q", 10+i, got, want)
				}
			}
			if tc.wantCode != "" {
				if h.mm.users["u1"].Email != tc.user.Email || len(h.mm.updates) != 0 {
					t.Errorf("Mattermost changed: %v", h.mm.updates)
				}
				for _, p := range h.z.patches {
					if strings.HasSuffix(p, "->"+annNew) {
						t.Errorf("the change reached Zulip: %v", h.z.patches)
					}
				}
			}
			if tc.wantLog != "" && !strings.Contains(h.log.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.log)
			}
		})
	}
}
