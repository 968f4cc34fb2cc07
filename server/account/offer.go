package account

import (
	"context"
	"strings"
	"time"
)

// OfferState is where an offer stands.
type OfferState string

// The states of an offer.
const (
	OfferOpen     OfferState = "open"     // sent; waits for the user's answer
	OfferAccepted OfferState = "accepted" // the user took the address for Mattermost too
	OfferKept     OfferState = "kept"     // the user kept their Mattermost email: not offered again
	// OfferApplied: applied to Mattermost without asking (ZulipChangesElsewhere
	// = apply), or found not to be takeable; not applied again.
	OfferApplied OfferState = "applied"
)

// Offer is an address changed in Zulip elsewhere, offered to the linked
// Mattermost user: the user decides, because a Zulip administrator could
// otherwise move a Mattermost account's email, a way into that account.
type Offer struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	ZulipUserID int        `json:"zulip_user_id"`
	Email       string     `json:"email"`  // Zulip's new address
	Agreed      string     `json:"agreed"` // the address both agreed on when it was offered
	State       OfferState `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
}

// Offers keeps each user's latest offer.
type Offers interface {
	// Offer returns the user's latest offer; ok is false when there is none.
	Offer(userID string) (o Offer, ok bool, err error)
	// SaveOffer stores o as the user's latest offer.
	SaveOffer(o Offer) error
}

// OfferZulipChange offers the user the address their linked Zulip account
// was changed to by other means, when Mattermost still has the address
// both agreed on. ok is false when there is nothing to offer: no link or
// agreed address, Zulip not changed (or its address hidden), Mattermost
// changed too, an open change, this address offered already (answered or
// not), an address Mattermost would not take, sync off or such changes only
// reported.
func (s *Service) OfferZulipChange(ctx context.Context, userID string) (Offer, bool) {
	if !s.syncing() || s.opts.ReportZulipChanges {
		return Offer{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	unlock, f := s.lockUser(ctx, userID)
	if f != nil {
		return Offer{}, false
	}
	defer unlock()
	seen, ok := s.zulipChangeSeen(ctx, userID)
	if !ok || s.appliesTo(seen) {
		return Offer{}, false // nothing to offer, or applied instead
	}
	o := seen.offer(newChangeID(), OfferOpen, s.opts.Now())
	if err := s.opts.Offers.SaveOffer(o); err != nil {
		s.opts.Logger.Error("account sync: could not save an offer", "user_id", userID, "error", err.Error())
		return Offer{}, false
	}
	s.opts.Logger.Info("account sync: offered a Zulip address to the Mattermost user", "user_id", userID, "offer_id", o.ID, "zulip_user_id", o.ZulipUserID)
	if err := s.opts.Notifier.Notify(userID, Notice{Kind: NoticeOffer, Offer: o}); err != nil {
		s.opts.Logger.Warn("account sync: could not send an offer", "user_id", userID, "offer_id", o.ID, "error", err.Error())
	}
	return o, true
}

// zulipSeen is a change made in Zulip elsewhere, as read under the user's
// lock: the user, their link, and Zulip's new address as Mattermost would
// take it.
type zulipSeen struct {
	user User
	link Link
	addr string
}

func (z zulipSeen) offer(id string, state OfferState, now time.Time) Offer {
	return Offer{ID: id, UserID: z.user.ID, ZulipUserID: z.link.ZulipUserID, Email: z.addr, Agreed: z.link.AgreedEmail, State: state, CreatedAt: now}
}

// zulipChangeSeen reads, under the user's lock, whether the user's linked
// Zulip account was changed elsewhere to an address that can be offered or
// applied: a human, active user linked with an agreed address that
// Mattermost still has, no open change, Zulip's real address moved away
// from it to one Mattermost would take, and not offered (or applied)
// already.
func (s *Service) zulipChangeSeen(ctx context.Context, userID string) (zulipSeen, bool) {
	user, err := s.mm.GetUser(userID)
	if err != nil || user.IsBot || user.Deactivated {
		return zulipSeen{}, false
	}
	l, linked, err := s.opts.Links.Link(userID)
	if err != nil || !linked || l.AgreedEmail == "" || !strings.EqualFold(user.Email, l.AgreedEmail) {
		return zulipSeen{}, false
	}
	if open, ok, err := s.opts.Recorder.LatestChange(userID); err != nil || (ok && open.State.Open()) {
		return zulipSeen{}, false
	}
	zu, err := s.zc.GetUserByID(ctx, l.ZulipUserID)
	if err != nil || !zu.IsActive || zu.IsBot || zu.RealAddress() == "" || strings.EqualFold(zu.RealAddress(), l.AgreedEmail) {
		return zulipSeen{}, false
	}
	addr, err := NormalizeAddress(zu.RealAddress(), s.mm.ValidEmail)
	if err != nil || isZulipDummyAddress(addr, s.opts.ZulipHost) || s.domainAllowed(addr) != nil {
		return zulipSeen{}, false // Mattermost would refuse it: the drift report shows the pair
	}
	if last, ok, err := s.opts.Offers.Offer(userID); err != nil || (ok && strings.EqualFold(last.Email, addr) && strings.EqualFold(last.Agreed, l.AgreedEmail)) {
		return zulipSeen{}, false // offered already, whatever the answer
	}
	return zulipSeen{user: user, link: l, addr: addr}, true
}

// mayFollowZulip tells, without the user's lock and without asking Zulip, whether
// address (Zulip's, as the scan or an event saw it) could be offered to the
// user (offered or applied): linked with an agreed address, Mattermost still at it, an address
// Mattermost would take, and not offered already. The scan and the event
// follower ask it first, so that a pair that stays apart (a kept offer, an
// address outside the allowed domains) costs them no lock and no request.
func (s *Service) mayFollowZulip(userID, address string) bool {
	if s.opts.ReportZulipChanges || address == "" {
		return false
	}
	l, linked, err := s.opts.Links.Link(userID)
	return err == nil && linked && s.mayFollowLink(l, address)
}

// mayFollowLink is mayFollowZulip on the user's link as read.
func (s *Service) mayFollowLink(l Link, address string) bool {
	userID := l.UserID
	if s.opts.ReportZulipChanges || address == "" || l.AgreedEmail == "" || strings.EqualFold(l.AgreedEmail, address) {
		return false
	}
	addr, err := NormalizeAddress(address, s.mm.ValidEmail)
	if err != nil || isZulipDummyAddress(addr, s.opts.ZulipHost) || s.domainAllowed(addr) != nil {
		return false
	}
	if last, ok, err := s.opts.Offers.Offer(userID); err != nil || (ok && strings.EqualFold(last.Email, addr) && strings.EqualFold(last.Agreed, l.AgreedEmail)) {
		return false
	}
	user, err := s.mm.GetUser(userID)
	return err == nil && strings.EqualFold(user.Email, l.AgreedEmail)
}

// currentOffer is the user's open offer with id, or why there is none.
func (s *Service) currentOffer(userID, id string) (Offer, *Failure) {
	o, ok, err := s.opts.Offers.Offer(userID)
	switch {
	case err != nil:
		return Offer{}, newFailure(CodeInternal, err)
	case !ok || o.ID != id || o.State != OfferOpen:
		return Offer{}, newFailure(CodeOfferNotCurrent, nil)
	}
	return o, nil
}

// AcceptOffer takes the offered address for the user's Mattermost email: the
// normal flow, under the same gates (the session is the presser's own),
// with Mattermost's confirmation link when the server requires one; Zulip
// has the address already. Only the user the offer is for can accept it,
// and only while it is their current, unanswered offer.
func (s *Service) AcceptOffer(ctx context.Context, userID, sessionID, offerID string) (Result, *Failure) {
	if f := s.CheckSession(userID, sessionID); f != nil {
		return Result{}, f
	}
	o, f := s.currentOffer(userID, offerID)
	if f != nil {
		return Result{}, f
	}
	if f := s.offerHolds(ctx, o); f != nil {
		return Result{}, f
	}
	res := s.ChangeEmail(ctx, Request{UserID: userID, SessionID: sessionID, NewEmail: o.Email})
	if res.Change.State != StateRefused {
		s.answer(o, OfferAccepted)
	}
	return res, nil
}

// offerHolds makes sure what was offered still is so: the link still goes
// to the offer's Zulip account, which still has the offered address, and
// Mattermost still has the address both agreed on. A button only ever
// moves Mattermost to what Zulip has.
func (s *Service) offerHolds(ctx context.Context, o Offer) *Failure {
	l, linked, err := s.opts.Links.Link(o.UserID)
	if err != nil {
		return newFailure(CodeInternal, err)
	}
	user, err := s.mm.GetUser(o.UserID)
	if err != nil {
		return newFailure(CodeMattermostFailed, err)
	}
	if !linked || l.ZulipUserID != o.ZulipUserID || !strings.EqualFold(user.Email, o.Agreed) || s.zc == nil {
		return newFailure(CodeOfferNotCurrent, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	zu, err := s.zc.GetUserByID(ctx, o.ZulipUserID)
	switch {
	case err != nil:
		return zulipFailure(err, CodeZulipRejected)
	case !zu.IsActive || !strings.EqualFold(zu.RealAddress(), o.Email):
		return newFailure(CodeOfferNotCurrent, nil)
	}
	return nil
}

// KeepOffer ends the user's current offer: they keep their Mattermost
// email, and the same address is not offered again.
func (s *Service) KeepOffer(userID, sessionID, offerID string) (Offer, *Failure) {
	if f := s.CheckSession(userID, sessionID); f != nil {
		return Offer{}, f
	}
	o, f := s.currentOffer(userID, offerID)
	if f != nil {
		return Offer{}, f
	}
	return s.answer(o, OfferKept), nil
}

func (s *Service) answer(o Offer, state OfferState) Offer {
	now := s.opts.Now()
	o.State, o.AnsweredAt = state, &now
	if err := s.opts.Offers.SaveOffer(o); err != nil {
		s.opts.Logger.Error("account sync: could not save the answer to an offer", "user_id", o.UserID, "offer_id", o.ID, "error", err.Error())
	}
	s.opts.Logger.Info("account sync: an offer was answered", "user_id", o.UserID, "offer_id", o.ID, "answer", string(state))
	return o
}
