package account

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// driftPage is how many Mattermost users the drift report reads at a time.
const driftPage = 200

// driftTimeout bounds the drift report's one Zulip request.
const driftTimeout = 2 * time.Minute

// driftScan is one drift report being built: Zulip's list (read once), the
// Zulip accounts seen from Mattermost, and the rows so far. It holds one
// page of Mattermost users at a time.
type driftScan struct {
	byID   map[int]zulip.User
	byAddr map[string]int // real address, lower case -> Zulip user id
	open   map[string]bool
	// linked are the Zulip accounts linked to a Mattermost user read so
	// far; claimed those and the ones whose address a user without a link
	// has (they have a Mattermost user: not rows of their own).
	linked, claimed map[int]bool
	// pending are the users without a link whose email is a Zulip
	// account's address: whether nobody else is linked to that account is
	// known only once every user was read. At most one per Zulip account.
	pending []User
	rep     DriftReport
}

// Drift compares every Mattermost user with its Zulip account and lists
// where the two stand apart, for an admin. It reads Zulip's users with one
// request and Mattermost's users page by page; it changes nothing in
// either system nor in the links. Links whose Mattermost user was deleted
// are not listed (the links are read by user); their Zulip accounts show
// as having no Mattermost user.
func (s *Service) Drift(ctx context.Context, adminID, sessionID string) (DriftReport, *Failure) {
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return DriftReport{}, f
	}
	return s.driftReport(ctx, adminID)
}

// driftReport is the drift report, for adminID (or the scan).
func (s *Service) driftReport(ctx context.Context, adminID string) (DriftReport, *Failure) {
	if f := s.linkable(); f != nil {
		return DriftReport{}, f
	}
	open, err := s.opts.Recorder.OpenChanges()
	if err != nil {
		return DriftReport{}, s.driftFailed(newFailure(CodeInternal, fmt.Errorf("reading the open changes: %w", err)), adminID)
	}
	zctx, cancel := context.WithTimeout(ctx, driftTimeout)
	members, err := s.zc.Users(zctx)
	cancel()
	if err != nil {
		return DriftReport{}, s.driftFailed(zulipFailure(err, CodeZulipRejected), adminID)
	}
	d := newDriftScan(members, open)
	for page := 0; ; page++ {
		users, err := s.mm.ListUsers(page, driftPage)
		if err != nil {
			return DriftReport{}, s.driftFailed(newFailure(CodeMattermostFailed, fmt.Errorf("listing Mattermost users, page %d: %w", page, err)), adminID)
		}
		for i := range users {
			if err := d.user(s.opts.Links, &users[i]); err != nil {
				return DriftReport{}, s.driftFailed(newFailure(CodeInternal, err), adminID)
			}
		}
		if len(users) < driftPage {
			break
		}
	}
	d.finish(members)
	s.opts.Logger.Info("account sync: drift report", "admin_id", adminID, "mattermost_users", d.rep.MattermostUsers,
		"zulip_users", d.rep.ZulipUsers, "rows", len(d.rep.Rows))
	return d.rep, nil
}

func (s *Service) driftFailed(f *Failure, adminID string) *Failure {
	s.logFailureKV("account sync: the drift report could not be made", f, "admin_id", adminID)
	return f
}

func newDriftScan(members []zulip.User, open []OpenChange) *driftScan {
	d := &driftScan{
		byID: make(map[int]zulip.User, len(members)), byAddr: make(map[string]int, len(members)),
		open: make(map[string]bool, len(open)), linked: map[int]bool{}, claimed: map[int]bool{},
		rep: DriftReport{Counts: map[DriftKind]int{}, ZulipUsers: len(members)},
	}
	for _, m := range members {
		d.byID[m.ID] = m
		if a := m.RealAddress(); a != "" {
			d.byAddr[strings.ToLower(a)] = m.ID
		}
	}
	for _, o := range open {
		d.open[o.UserID] = true
	}
	return d
}

// user classifies one Mattermost user, or keeps it for finish.
func (d *driftScan) user(links Links, u *User) error {
	d.rep.MattermostUsers++
	if u.IsBot {
		return nil
	}
	l, linked, err := links.Link(u.ID)
	if err != nil {
		return fmt.Errorf("reading the link of %s: %w", u.ID, err)
	}
	if linked {
		row := DriftRow{ZulipUserID: l.ZulipUserID, AgreedEmail: l.AgreedEmail}
		zu, ok := d.byID[l.ZulipUserID]
		if !ok {
			d.add(row, u, nil, classify(u, &l, nil, d.open[u.ID]))
			return nil
		}
		d.linked[zu.ID], d.claimed[zu.ID] = true, true // only Zulip's own ids: bounded by its list
		d.add(row, u, &zu, classify(u, &l, &zu, d.open[u.ID]))
		return nil
	}
	if id, ok := d.byAddr[strings.ToLower(u.Email)]; ok {
		d.claimed[id] = true
		d.pending = append(d.pending, *u)
		return nil
	}
	d.add(DriftRow{}, u, nil, classify(u, nil, nil, d.open[u.ID]))
	return nil
}

// finish classifies the users kept for later, lists the Zulip accounts no
// Mattermost user has, and sorts the rows.
func (d *driftScan) finish(members []zulip.User) {
	for i := range d.pending {
		u := &d.pending[i]
		zu := d.byID[d.byAddr[strings.ToLower(u.Email)]]
		if d.linked[zu.ID] {
			// Linked to another user: not free to link. The row still
			// names the account that has the address.
			d.add(DriftRow{}, u, &zu, classify(u, nil, nil, d.open[u.ID]))
			continue
		}
		d.add(DriftRow{}, u, &zu, classify(u, nil, &zu, d.open[u.ID]))
	}
	d.pending = nil
	for i := range members {
		if !d.claimed[members[i].ID] {
			d.add(DriftRow{}, nil, &members[i], classify(nil, nil, &members[i], false))
		}
	}
	slices.SortStableFunc(d.rep.Rows, func(a, b DriftRow) int {
		return cmp.Or(cmp.Compare(driftOrder(a.Kind), driftOrder(b.Kind)), cmp.Compare(a.Username, b.Username), cmp.Compare(a.ZulipUserID, b.ZulipUserID))
	})
}

// add fills row with the user's and the Zulip account's facts and keeps it
// when it is a row.
func (d *driftScan) add(row DriftRow, u *User, zu *zulip.User, kind DriftKind) {
	if kind == DriftNone {
		return
	}
	row.Kind = kind
	if u != nil {
		row.UserID, row.Username, row.Email = u.ID, u.Username, u.Email
	}
	if zu != nil {
		row.ZulipUserID, row.ZulipEmail = zu.ID, zu.RealAddress()
		if row.ZulipEmail == "" {
			row.ZulipEmail = zu.Email // Zulip's id-based address: what /account link takes
		}
	}
	d.rep.Rows = append(d.rep.Rows, row)
	d.rep.Counts[kind]++
}
