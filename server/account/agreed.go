package account

// The address both systems last agreed on (Link.AgreedEmail) is what tells
// a change made elsewhere from one Account Sync made: every change Account
// Sync makes moves it before it acts, and puts it where both systems ended
// when the change ends.

// agree moves the change's link's agreed address to email. A failure is
// logged: the drift report then shows the pair for an admin to look at.
func (s *Service) agree(ch *Change, email string) {
	if ch.ZulipUserID == 0 || email == "" {
		return
	}
	if err := s.opts.Links.SetAgreedEmail(ch.UserID, ch.ZulipUserID, email); err != nil {
		s.opts.Logger.Warn("account sync: could not note the address both systems agree on", "change_id", ch.ID, "user_id", ch.UserID, "error", err.Error())
	}
}

// agreeOnEnd puts the agreed address where both systems ended: the new
// address when Zulip took it, the old one otherwise. A change that needs
// an admin leaves it as it was: the systems may differ.
func (s *Service) agreeOnEnd(ch *Change) {
	switch {
	case ch.State.Open(), ch.State == StateNeedsAttention, ch.State == StateRefused:
	case ch.Zulip == StatusChanged:
		s.agree(ch, ch.NewEmail)
	default:
		s.agree(ch, ch.OldEmail)
	}
}
