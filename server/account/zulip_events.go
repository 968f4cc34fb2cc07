package account

import "context"

// ZulipAccountChanged is told that Zulip reported a change of one of its
// accounts (a real-time event): if it is linked, a change made in Zulip
// elsewhere is offered to the Mattermost user at once, or applied when the
// administrator chose so (both check everything again under the lock). address is the account's new real address, as
// the event gave it. ok is false when nothing was offered nor applied.
func (s *Service) ZulipAccountChanged(ctx context.Context, zulipUserID int, address string) bool {
	l, linked, err := s.opts.Links.LinkOfZulip(zulipUserID)
	if err != nil {
		s.opts.Logger.Warn("account sync: could not read who is linked to a Zulip account", "zulip_user_id", zulipUserID, "error", err.Error())
		return false
	}
	if !linked {
		return false // unlinked accounts are never acted on
	}
	// Account Sync's own changes arrive as events too: the agreed address
	// moved before it acted. Told apart here (mayFollowZulip) without the user's
	// lock, so that the user's own commands never find it taken.
	// The link just read serves: one read of it, not two.
	if !s.mayFollowLink(l, address) {
		return false
	}
	applied, offered := s.followZulipChange(ctx, l.UserID)
	return applied || offered
}
