package account

import (
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Every kind of the drift report, and the pairs that are not rows, from
// the facts of one pair alone.
func TestClassify(t *testing.T) {
	const a, b, c = "a@example.org", "b@example.org", "c@example.org"
	mm := func(email string, edit ...func(*User)) *User {
		u := &User{ID: "u1", Username: "ann", Email: email, EmailVerified: true}
		for _, e := range edit {
			e(u)
		}
		return u
	}
	zu := func(addr string, edit ...func(*zulip.User)) *zulip.User {
		z := &zulip.User{ID: 10, Email: addr, DeliveryEmail: addr, IsActive: true}
		for _, e := range edit {
			e(z)
		}
		return z
	}
	agreed := func(addr string) *Link { return &Link{UserID: "u1", ZulipUserID: 10, AgreedEmail: addr} }
	var (
		deactivated = func(u *User) { u.Deactivated = true }
		unverified  = func(u *User) { u.EmailVerified = false }
		mmBot       = func(u *User) { u.IsBot = true }
		inactive    = func(z *zulip.User) { z.IsActive = false }
		zBot        = func(z *zulip.User) { z.IsBot = true }
		hidden      = func(z *zulip.User) { z.Email, z.DeliveryEmail = "user10@zulip.test", "" }
	)
	tests := []struct {
		name string
		mm   *User
		link *Link
		zu   *zulip.User
		open bool
		want DriftKind
	}{
		{"in agreement", mm(a), agreed(a), zu(a), false, DriftNone},
		{"in agreement, letter case aside", mm("A@Example.org"), agreed("a@EXAMPLE.org"), zu(a), false, DriftNone},
		{"same address, agreed address unknown", mm(a), agreed(""), zu(a), false, DriftNone},
		{"changed in Mattermost elsewhere", mm(b), agreed(a), zu(a), false, DriftMattermostChanged},
		{"changed in Zulip elsewhere", mm(a), agreed(a), zu(b), false, DriftZulipChanged},
		{"both changed to the same address", mm(b), agreed(a), zu(b), false, DriftBothChangedSame},
		{"both changed to different addresses", mm(b), agreed(a), zu(c), false, DriftBothChangedDifferent},
		{"agreed address unknown and the two differ", mm(b), agreed(""), zu(a), false, DriftAgreedUnknown},
		{"linked Zulip account deactivated", mm(a), agreed(a), zu(a, inactive), false, DriftZulipInactive},
		{"linked Zulip account deleted", mm(a), agreed(a), nil, false, DriftZulipInactive},
		{"linked Zulip account is a bot", mm(a), agreed(a), zu(a, zBot), false, DriftZulipInactive},
		{"Mattermost user deactivated", mm(a, deactivated), agreed(a), zu(a), false, DriftMattermostInactive},
		{"both deactivated: Mattermost first", mm(a, deactivated), agreed(a), zu(a, inactive), false, DriftMattermostInactive},
		{"Zulip address hidden from the bot", mm(a), agreed(a), zu(a, hidden), false, DriftZulipHidden},
		{"open change on a link that differs", mm(b), agreed(a), zu(a), true, DriftOpenChange},
		{"open change without a link", mm(a), nil, nil, true, DriftOpenChange},
		{"Mattermost bot with a link that differs", mm(b, mmBot), agreed(a), zu(a), false, DriftNone},
		{"Mattermost bot with an open change", mm(a, mmBot), nil, nil, true, DriftNone},
		{"Mattermost bot without a Zulip account", mm(a, mmBot), nil, nil, false, DriftNone},

		{"not linked: /account email would link", mm(a), nil, zu(a), false, DriftWouldLink},
		{"not linked: would link, letter case aside", mm("A@example.ORG"), nil, zu(a), false, DriftWouldLink},
		{"not linked: link-all unverified would link", mm(a, unverified), nil, zu(a), false, DriftWouldLinkUnverified},
		{"not linked: no Zulip account", mm(a), nil, nil, false, DriftNoZulipAccount},
		{"not linked: the Zulip account is deactivated", mm(a), nil, zu(a, inactive), false, DriftNoZulipAccount},
		{"not linked: the Zulip account is a bot", mm(a), nil, zu(a, zBot), false, DriftNoZulipAccount},
		{"not linked: the Zulip account's address is hidden", mm(a), nil, zu(a, hidden), false, DriftNoZulipAccount},
		{"not linked: the Zulip account has another address", mm(a), nil, zu(b), false, DriftNoZulipAccount},
		{"not linked, deactivated, active Zulip account with its address", mm(a, deactivated), nil, zu(a), false, DriftMattermostInactive},
		{"not linked, deactivated, no Zulip account", mm(a, deactivated), nil, nil, false, DriftNone},
		{"not linked, deactivated, deactivated Zulip account", mm(a, deactivated), nil, zu(a, inactive), false, DriftNone},

		{"active human Zulip account with no Mattermost user", nil, nil, zu(a), false, DriftNoMattermostUser},
		{"hidden Zulip account with no Mattermost user", nil, nil, zu(a, hidden), false, DriftNoMattermostUser},
		{"Zulip bot with no Mattermost user", nil, nil, zu(a, zBot), false, DriftNone},
		{"deactivated Zulip account with no Mattermost user", nil, nil, zu(a, inactive), false, DriftNone},
		{"nothing on either side", nil, nil, nil, false, DriftNone},
	}
	seen := map[DriftKind]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.mm, tc.link, tc.zu, tc.open); got != tc.want {
				t.Errorf("classify = %q, want %q", got, tc.want)
			}
		})
		seen[tc.want] = true
	}
	for _, k := range DriftKinds() {
		if !seen[k] {
			t.Errorf("no case classifies as %q", k)
		}
	}
}

// DriftKinds lists each kind once, never DriftNone.
func TestDriftKindsAreDistinct(t *testing.T) {
	seen := map[DriftKind]bool{}
	for _, k := range DriftKinds() {
		if k == DriftNone || seen[k] {
			t.Errorf("kind %q listed twice or empty", k)
		}
		seen[k] = true
	}
	if len(seen) != 13 {
		t.Errorf("%d kinds, want 13", len(seen))
	}
}
