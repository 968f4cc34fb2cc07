package store

import (
	"math"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// ListChanges returns one page of the change records, newest first by
// creation, only those in state when it is not empty. It walks the index by
// day from the newest day and reads only the records it returns (plus an
// entry whose record is gone or whose state moved meanwhile).
func (s *Store) ListChanges(state account.State, page, perPage int) ([]account.Change, error) {
	out := []account.Change{}
	if page < 0 || perPage < 1 || page > math.MaxInt/perPage {
		return out, nil // no store holds that many
	}
	if err := s.ensureDayIndex(); err != nil {
		return nil, err
	}
	days, err := s.days()
	if err != nil {
		return nil, err
	}
	skip := page * perPage
	for i := len(days) - 1; i >= 0; i-- {
		entries, err := s.readDay(days[i].Day, days[i].Shards)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if state != "" && e.State != state {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			c, ok, err := s.GetChange(e.ID)
			if err != nil {
				return nil, err
			}
			if !ok || (state != "" && c.State != state) {
				continue
			}
			out = append(out, c)
			if len(out) == perPage {
				return out, nil
			}
		}
	}
	return out, nil
}
