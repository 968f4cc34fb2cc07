package account

import (
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// DriftKind is how a Mattermost account and a Zulip account stand apart
// in the drift report; the edge words what it means and what to do.
type DriftKind string

// DriftNone is a pair in agreement (or a bot): not a row of the report.
const DriftNone DriftKind = ""

// The kinds of rows of the drift report, for linked accounts first, then
// for accounts with no link.
const (
	// DriftMattermostChanged: the Mattermost email is no longer the agreed
	// address; Zulip still has it (changed in Mattermost by other means).
	DriftMattermostChanged DriftKind = "mattermost_changed"
	// DriftZulipChanged: Zulip's address is no longer the agreed one;
	// Mattermost still has it (changed in Zulip by other means).
	DriftZulipChanged DriftKind = "zulip_changed"
	// DriftBothChangedSame: both changed to the same address; only the
	// agreed address needs to move.
	DriftBothChangedSame DriftKind = "both_changed_same"
	// DriftBothChangedDifferent: both changed, to different addresses.
	DriftBothChangedDifferent DriftKind = "both_changed_different"
	// DriftAgreedUnknown: the link knows no agreed address (made before it
	// was kept) and the two addresses differ: which one moved is unknown.
	DriftAgreedUnknown DriftKind = "agreed_unknown"
	// DriftZulipInactive: the linked Zulip account is deactivated, deleted
	// (not in Zulip's list) or a bot; no change can reach it.
	DriftZulipInactive DriftKind = "zulip_inactive"
	// DriftMattermostInactive: the Mattermost user is deactivated while
	// the Zulip account (linked, or with the same address) is active.
	DriftMattermostInactive DriftKind = "mattermost_inactive"
	// DriftZulipHidden: Zulip hides the linked account's address from the
	// bot, so the two cannot be compared.
	DriftZulipHidden DriftKind = "zulip_hidden"
	// DriftOpenChange: the user has a change in progress; the pair is
	// skipped until it ends.
	DriftOpenChange DriftKind = "open_change"
	// DriftWouldLink: not linked, but the verified Mattermost email is the
	// real address of an active human Zulip account linked to nobody, so
	// the user's next /account email links them (as /account link-all does).
	DriftWouldLink DriftKind = "would_link"
	// DriftWouldLinkUnverified: the same with an unverified Mattermost
	// email: only /account link-all unverified would link them.
	DriftWouldLinkUnverified DriftKind = "would_link_unverified"
	// DriftNoZulipAccount: not linked, and no active human Zulip account
	// free to link has the Mattermost email.
	DriftNoZulipAccount DriftKind = "no_zulip_account"
	// DriftNoMattermostUser: an active human Zulip account that no
	// Mattermost user is linked to or has the address of.
	DriftNoMattermostUser DriftKind = "no_mattermost_user"
)

// DriftKinds lists every kind of row, in the order the report shows them:
// what needs an admin's decision first.
func DriftKinds() []DriftKind {
	return []DriftKind{
		DriftBothChangedDifferent, DriftAgreedUnknown, DriftMattermostChanged, DriftZulipChanged, DriftBothChangedSame,
		DriftZulipInactive, DriftMattermostInactive, DriftZulipHidden, DriftOpenChange,
		DriftWouldLink, DriftWouldLinkUnverified, DriftNoZulipAccount, DriftNoMattermostUser,
	}
}

// driftOrder is the place of a kind in DriftKinds.
func driftOrder(k DriftKind) int {
	for i, x := range DriftKinds() {
		if x == k {
			return i
		}
	}
	return len(DriftKinds())
}

// DriftRow is one row of the drift report. Fields of a side the row has
// not are empty (zero).
type DriftRow struct {
	UserID      string // the Mattermost user
	Username    string
	Email       string // the Mattermost email
	ZulipUserID int    // the linked Zulip account, or the one with the Mattermost email
	ZulipEmail  string // its real address, or Zulip's id-based one when Zulip hides it
	AgreedEmail string // the address both systems last agreed on
	Kind        DriftKind
}

// DriftReport is every row of the drift report, by kind (DriftKinds'
// order), then by username and Zulip user id.
type DriftReport struct {
	Rows            []DriftRow
	Counts          map[DriftKind]int
	MattermostUsers int // Mattermost users read, bots included
	ZulipUsers      int // Zulip accounts read, bots included
}

// classify tells how one pair stands. mm is the Mattermost user (nil for a
// Zulip account no Mattermost user has), link the user's link (nil when
// none), zu the linked Zulip account (nil when Zulip does not list it) or,
// for a user without a link, the Zulip account whose real address is the
// Mattermost email and that nobody is linked to (nil when none). open
// tells a user with a change in progress.
func classify(mm *User, link *Link, zu *zulip.User, open bool) DriftKind {
	if mm == nil {
		if zu == nil || !activeHuman(zu) {
			return DriftNone
		}
		return DriftNoMattermostUser
	}
	if mm.IsBot {
		return DriftNone
	}
	if open {
		return DriftOpenChange
	}
	if link == nil {
		return classifyUnlinked(mm, zu)
	}
	switch {
	case mm.Deactivated:
		return DriftMattermostInactive
	case zu == nil || !activeHuman(zu):
		// The flow refuses a linked bot as it refuses a deactivated account.
		return DriftZulipInactive
	case zu.RealAddress() == "":
		return DriftZulipHidden
	}
	m, z, a := strings.ToLower(mm.Email), strings.ToLower(zu.RealAddress()), strings.ToLower(link.AgreedEmail)
	switch {
	case m == z && (a == "" || a == m):
		return DriftNone
	case m == z:
		return DriftBothChangedSame
	case a == "":
		return DriftAgreedUnknown
	case a == z:
		return DriftMattermostChanged
	case a == m:
		return DriftZulipChanged
	default:
		return DriftBothChangedDifferent
	}
}

// classifyUnlinked tells how a Mattermost user without a link stands.
func classifyUnlinked(mm *User, zu *zulip.User) DriftKind {
	match := zu != nil && activeHuman(zu) && zu.RealAddress() != "" && strings.EqualFold(zu.RealAddress(), mm.Email)
	switch {
	case mm.Deactivated && match:
		return DriftMattermostInactive
	case mm.Deactivated:
		return DriftNone // nothing in Zulip to tell apart from it
	case !match:
		return DriftNoZulipAccount
	case mm.EmailVerified:
		return DriftWouldLink
	default:
		return DriftWouldLinkUnverified
	}
}

func activeHuman(zu *zulip.User) bool { return zu.IsActive && !zu.IsBot }
