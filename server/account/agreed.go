package account

import (
	"context"
	"strings"
)

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
	s.setAgreed(ch, email)
}

// agreeAhead moves the agreed address to the change's new address before
// the change acts, noting where it was so that a change that does not go
// through puts it back. It reports whether the address was moved.
func (s *Service) agreeAhead(ch *Change) bool {
	return s.moveAgreed(*ch).noteIn(ch)
}

// agreedMove is what moving the agreed address ahead did.
type agreedMove struct {
	before string // what was agreed before, when known
	known  bool
	moved  bool // the address is at the change's new address now
	tried  bool // a write was tried, and may have landed
}

// noteIn notes where the address was in ch, and reports whether it moved.
func (m agreedMove) noteIn(ch *Change) bool {
	if m.known {
		ch.AgreedBefore = m.before
	}
	return m.moved
}

// moveAgreed moves the agreed address of ch's link to ch's new address.
func (s *Service) moveAgreed(ch Change) agreedMove {
	if ch.ZulipUserID == 0 {
		return agreedMove{}
	}
	before, ok, err := s.opts.Links.SetAgreedEmail(ch.UserID, ch.ZulipUserID, ch.NewEmail)
	if err != nil {
		s.warnAgreed(&ch, err)
	}
	if err != nil && !ok {
		// The store could not tell what was agreed before: read it, so
		// that a change that does not go through puts that back.
		if l, linked, lerr := s.opts.Links.Link(ch.UserID); lerr == nil && linked && l.ZulipUserID == ch.ZulipUserID {
			before, ok = l.AgreedEmail, true
		}
	}
	return agreedMove{before: before, known: ok, moved: err == nil && ok, tried: err != nil || ok}
}

// saveAndAgreeAhead saves a new change's record and moves the agreed
// address side by side (both before Mattermost changes: one round trip,
// not two). When the record is not saved, the address is put back and
// nothing else changes.
func (s *Service) saveAndAgreeAhead(ctx context.Context, ch *Change) (agreedMove, error) {
	moved := make(chan agreedMove, 1)
	c := *ch // the save stamps ch meanwhile
	go func() {
		m := agreedMove{}
		defer func() { moved <- m }()
		defer recovered(func(err error) { s.warnAgreed(&c, err) }) // nothing known: nothing put back
		m = s.moveAgreed(c)
	}()
	saved := false
	defer func() {
		if saved {
			return
		}
		// Not saved, or the save panicked: wait for the move and put the
		// address back before anything else goes on.
		if m := <-moved; m.tried && m.known {
			s.setAgreed(ch, m.before)
		}
	}()
	err := s.saveAhead(ctx, ch)
	if err != nil {
		return agreedMove{}, err
	}
	saved = true
	return <-moved, nil
}

func (s *Service) setAgreed(ch *Change, email string) {
	if _, _, err := s.opts.Links.SetAgreedEmail(ch.UserID, ch.ZulipUserID, email); err != nil {
		s.warnAgreed(ch, err)
	}
}

func (s *Service) warnAgreed(ch *Change, err error) {
	s.opts.Logger.Warn("account sync: could not note the address both systems agree on", "change_id", ch.ID, "user_id", ch.UserID, "error", err.Error())
}

// agreeOnEndOf is agreeOnEnd for a request's change: one that ends with
// Zulip changed, after this request moved the agreed address ahead, has it
// where both systems ended already.
func (s *Service) agreeOnEndOf(res *Result) {
	if res.agreedAhead && res.Change.State == StateDone && res.Change.Zulip == StatusChanged {
		return
	}
	s.agreeOnEnd(&res.Change)
}

// agreeOnEnd puts the agreed address where both systems ended: the new
// address when Zulip took it, the old one otherwise. A change that needs
// an admin leaves it as it was: the systems may differ.
func (s *Service) agreeOnEnd(ch *Change) {
	switch {
	case ch.State.Open(), ch.State == StateNeedsAttention, ch.State == StateRefused, ch.ZulipUserID == 0:
	case ch.Zulip == StatusChanged:
		s.setAgreed(ch, ch.NewEmail)
	default:
		// Back where it was before the change (not the change's old
		// address: Mattermost may have been changed elsewhere before, and
		// Zulip never had that one), if the change moved it: a move ahead
		// that never happened left it right, and AgreedBefore may then be
		// unknown.
		l, linked, err := s.opts.Links.Link(ch.UserID)
		if err != nil {
			s.warnAgreed(ch, err)
			return
		}
		if linked && strings.EqualFold(l.AgreedEmail, ch.NewEmail) { // SetAgreedEmail checks the link's Zulip account
			s.setAgreed(ch, ch.AgreedBefore)
		}
	}
}
