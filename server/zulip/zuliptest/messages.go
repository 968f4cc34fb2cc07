package zuliptest

import (
	"slices"
	"time"
)

// DirectMessage is a direct message the emulator accepted (POST /messages).
type DirectMessage struct {
	ID       int
	SenderID int
	To       []int     // recipients' user IDs, ascending, without duplicates
	Content  string    // as Zulip stores it: trailing whitespace and leading newlines removed
	At       time.Time // when it was accepted, by the server's clock
}

// DirectMessages returns a copy of the direct messages accepted so far,
// oldest first.
func (s *Server) DirectMessages() []DirectMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DirectMessage, len(s.messages))
	for i, m := range s.messages {
		m.To = slices.Clone(m.To)
		out[i] = m
	}
	return out
}

// ResetDirectMessages forgets the accepted direct messages. Message IDs keep
// counting up.
func (s *Server) ResetDirectMessages() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}
