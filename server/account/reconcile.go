package account

import "context"

// ReconcileReport counts what one scan did.
type ReconcileReport struct {
	Rows      int // pairs that stand apart (the drift report's rows)
	Forwarded int // changes made in Mattermost elsewhere, forwarded to Zulip (or found not to be takeable)
	Agreed    int // pairs both changed to the same address: the agreed address moved
	Offered   int // changes made in Zulip elsewhere, offered to the Mattermost user
	Applied   int // changes made in Zulip elsewhere, applied to Mattermost (or found not to be takeable)
	Linked    int // users linked by verified email, where /account email would link them
}

// Reconcile is the scan: it reads both systems as the drift report does
// (one Zulip request, Mattermost page by page), forwards every change made
// in Mattermost elsewhere (Forward), offers (or, in apply mode, applies)
// every change made in Zulip elsewhere, moves the agreed address where
// both systems were changed to the same one, and links users where
// /account email would (autoLink). Every other pair is left to
// the drift report. Nothing happens while sync is off.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, *Failure) {
	var out ReconcileReport
	if !s.syncing() {
		return out, nil // nothing to keep in step
	}
	rep, f := s.driftReport(ctx, "scan")
	if f != nil {
		return out, f
	}
	out.Rows = len(rep.Rows)
	for _, row := range rep.Rows {
		if ctx.Err() != nil {
			break // the next scan goes on
		}
		switch row.Kind {
		case DriftMattermostChanged:
			if _, ok := s.Forward(ctx, row.UserID); ok {
				out.Forwarded++
			}
		case DriftZulipChanged:
			if !s.mayFollowZulip(row.UserID, row.ZulipEmail) {
				continue
			}
			applied, offered := s.followZulipChange(ctx, row.UserID)
			if applied {
				out.Applied++
			}
			if offered {
				out.Offered++
			}
		case DriftWouldLink:
			if s.autoLink(ctx, row) {
				out.Linked++
			}
		case DriftBothChangedSame:
			s.agree(&Change{UserID: row.UserID, ZulipUserID: row.ZulipUserID}, row.Email)
			out.Agreed++
		}
	}
	if out.Forwarded > 0 || out.Agreed > 0 || out.Offered > 0 || out.Applied > 0 || out.Linked > 0 {
		s.opts.Logger.Info("account sync: scan", "rows", out.Rows, "forwarded", out.Forwarded, "agreed", out.Agreed, "offered", out.Offered,
			"applied", out.Applied, "linked", out.Linked)
	}
	return out, nil
}

// syncing tells whether Zulip sync is on and set up.
func (s *Service) syncing() bool { return s.opts.SyncZulip && s.zc != nil }
