package account

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// A migration checks its users against one list of Zulip's users (one
// request) rather than a lookup each: each user then costs one PATCH. The
// list is read again after migrationListUsers users or migrationListAge,
// whichever comes first. A user is checked against it once: a user whose
// turn comes again (their own command was running) left Zulip unchanged.
const (
	migrationListUsers = 100
	migrationListAge   = 30 * time.Second
)

// zulipList is Zulip's users as one GET /users said.
type zulipList struct {
	byID   map[int]zulip.User
	byAddr map[string]int
}

func (s *Service) zulipList(ctx context.Context) (*zulipList, *Failure) {
	zctx, cancel := context.WithTimeout(ctx, driftTimeout)
	members, err := s.zc.Users(zctx)
	cancel()
	if err != nil {
		return nil, zulipFailure(err, CodeZulipRejected)
	}
	l := &zulipList{byID: make(map[int]zulip.User, len(members)), byAddr: make(map[string]int, len(members))}
	for _, m := range members {
		l.byID[m.ID] = m
		if a := m.RealAddress(); a != "" {
			l.byAddr[strings.ToLower(a)] = m.ID
		}
	}
	return l, nil
}

// migrationLists keeps the list of the migration under way for its next
// batches (on this node: one per Zulip connection, in ZulipFacts).
type migrationLists struct {
	mu    sync.Mutex
	id    string // the migration
	at    time.Time
	users int // users checked against it
	list  *zulipList
}

// take returns the list kept for migration id, while it may still be used;
// nil when a new one must be read.
func (c *migrationLists) take(id string, now time.Time) *zulipList {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil || c.id != id || c.users >= migrationListUsers || now.Sub(c.at) >= migrationListAge || now.Before(c.at) {
		return nil
	}
	return c.list
}

func (c *migrationLists) keep(id string, now time.Time, l *zulipList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id, c.at, c.users, c.list = id, now, 0, l
}

// checked counts one user checked against the list.
func (c *migrationLists) checked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users++
}

// drop forgets the list: Zulip or the bot changed in a way the run could
// not get past.
func (c *migrationLists) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = nil
}
