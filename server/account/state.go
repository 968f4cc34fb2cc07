package account

import (
	"fmt"
	"slices"
)

// transitions is every move a change may make. Anything else is a bug or a
// race, and is refused and logged. Final states have no moves out.
var transitions = map[State][]State{
	StateNew: {StateRefused, StateStarted, StateWaitingForZulip},
	StateStarted: {
		StateDone, StatePendingVerification, StateMattermostChanged, StateRolledBack,
		StateFailed, StateNeedsAttention,
		StateWaitingForZulip,             // interrupted before Mattermost changed: made again
		StateRollbackPendingVerification, // verification turned on while the change ran
	},
	StateWaitingForZulip:     {StateWaitingForZulip, StateStarted, StateFailed, StateCancelled},
	StatePendingVerification: {StateMattermostChanged, StateExpired, StateFailed, StateDone, StateNeedsAttention},
	StateMattermostChanged: {
		StateMattermostChanged, StateDone, StateRolledBack, StateNeedsAttention, StateFailed,
		StateRollbackPendingVerification,
	},
	StateRollbackPendingVerification: {StateRolledBack, StateNeedsAttention},
}

// Open reports whether a change is still to be carried on.
func (s State) Open() bool {
	switch s {
	case StateStarted, StateWaitingForZulip, StatePendingVerification, StateMattermostChanged, StateRollbackPendingVerification:
		return true
	default:
		return false
	}
}

// CanMove reports whether a change in state from may move to state to.
func CanMove(from, to State) bool { return slices.Contains(transitions[from], to) }

// ImpossibleTransitionError is a move the table does not allow.
type ImpossibleTransitionError struct {
	ChangeID string
	From, To State
}

func (e *ImpossibleTransitionError) Error() string {
	return fmt.Sprintf("account: change %s cannot move from %s to %s", e.ChangeID, e.From, e.To)
}

// moveTo moves c to state to if the table allows it.
func (c *Change) moveTo(to State) error {
	if !CanMove(c.State, to) {
		return &ImpossibleTransitionError{ChangeID: c.ID, From: c.State, To: to}
	}
	c.State = to
	return nil
}

// move moves ch to state to, or logs the impossible move and leaves ch as
// it is. It reports whether ch moved.
func (s *Service) move(ch *Change, to State) bool {
	if err := ch.moveTo(to); err != nil {
		s.opts.Logger.Error("account sync: impossible state change refused", "change_id", ch.ID, "from", string(ch.State), "to", string(to))
		return false
	}
	return true
}
