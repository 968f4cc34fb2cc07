package store

import (
	"fmt"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Offer returns the user's latest offer; ok is false when there is none.
func (s *Store) Offer(userID string) (account.Offer, bool, error) {
	var o *account.Offer
	if err := s.kv.Get(offerKey(userID), &o); err != nil {
		return account.Offer{}, false, fmt.Errorf("store: reading the offer of %s: %w", userID, err)
	}
	if o == nil {
		return account.Offer{}, false, nil
	}
	return *o, true, nil
}

// SaveOffer stores o as its user's latest offer (the user's lock or the
// offer's own answer orders the writes).
func (s *Store) SaveOffer(o account.Offer) error {
	if _, err := s.kv.Set(offerKey(o.UserID), o); err != nil {
		return fmt.Errorf("store: saving the offer of %s: %w", o.UserID, err)
	}
	return nil
}
