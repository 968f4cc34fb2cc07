package account

import (
	"fmt"
	"slices"
)

// transitions is every move a change may make. Anything else is a bug or a
// race, and is refused and logged. Final states have no moves out. The
// moves, and why each is made (TestDiagramMatchesTheTable checks this
// drawing against the table, edge for edge):
//
//	new -> refused: a gate or check failed before anything was stored
//	new -> started: both systems checked; written ahead of Mattermost
//	new -> waiting_for_zulip: Zulip down, slow, 5xx or 429 during the checks
//	new -> mattermost_changed: a change made in Mattermost elsewhere, written ahead of Zulip
//	new -> failed: a change made in Mattermost elsewhere that Zulip cannot take
//	started -> done: Mattermost changed, and Zulip took it (or sync is off)
//	started -> pending_verification: Mattermost mailed a confirmation link
//	started -> mattermost_changed: Zulip's answer was lost, or it asked to wait
//	started -> rolled_back: Zulip refused; Mattermost put back
//	started -> rollback_pending_verification: Zulip refused; the way back waits for a link
//	started -> failed: Mattermost refused, or changed by other means meanwhile
//	started -> needs_attention: putting Mattermost back failed, or the outcome cannot be read
//	started -> waiting_for_zulip: interrupted before Mattermost changed: made again
//	waiting_for_zulip -> waiting_for_zulip: Zulip still cannot be reached
//	waiting_for_zulip -> started: Zulip is back: the change is made
//	waiting_for_zulip -> failed: refused when retried, or the retry time ran out
//	waiting_for_zulip -> cancelled: /account cancel
//	pending_verification -> mattermost_changed: the link was opened: Zulip follows
//	pending_verification -> done: the link was opened, and Zulip does not follow
//	pending_verification -> expired: the link was not opened in time
//	pending_verification -> failed: the change could not go on
//	pending_verification -> needs_attention: the link expired and the user cannot be read
//	mattermost_changed -> mattermost_changed: Zulip still cannot take it: tried later
//	mattermost_changed -> done: Zulip took it
//	mattermost_changed -> rolled_back: Zulip refused, or the retry time ran out
//	mattermost_changed -> rollback_pending_verification: the same, with the way back held for a link
//	mattermost_changed -> failed: Mattermost's email was changed by other means meanwhile
//	mattermost_changed -> needs_attention: the systems differ, or whether they do cannot be read
//	rollback_pending_verification -> rolled_back: the link to the old address was opened
//	rollback_pending_verification -> needs_attention: the link expired, or another address came
var transitions = map[State][]State{
	StateNew: {StateRefused, StateStarted, StateWaitingForZulip, StateMattermostChanged, StateFailed},
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
	return fmt.Sprintf("account: change %s cannot move from %s to %s", e.ChangeID, e.From.name(), e.To.name())
}

// name is the state's name in logs and the diagram ("new" for StateNew).
func (s State) name() string {
	if s == StateNew {
		return "new"
	}
	return string(s)
}

// moveTo moves c to state to if the table allows it.
func (c *Change) moveTo(to State) error {
	if !CanMove(c.State, to) {
		return &ImpossibleTransitionError{ChangeID: c.ID, From: c.State, To: to}
	}
	c.State = to
	return nil
}
