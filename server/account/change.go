package account

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// State is where a change stands. A change ends in one of the final states;
// StatePendingVerification waits for the user to confirm the new address.
type State string

// The states of a change.
const (
	StateStarted              State = "started"
	StateRefused              State = "refused"              // stopped before anything changed
	StatePendingVerification  State = "pending_verification" // Mattermost mailed a link; nothing changed yet
	StateDone                 State = "done"                 // changed everywhere it should be
	StateRolledBack           State = "rolled_back"          // Zulip failed, Mattermost put back
	StateNeedsAttention       State = "needs_attention"      // the systems may differ: an admin must look
	StateMattermostNotChanged State = "mattermost_not_changed"
)

// SystemStatus is what happened to one system.
type SystemStatus string

// What can happen to Mattermost or Zulip in a change.
const (
	StatusUntouched      SystemStatus = "untouched"
	StatusChanged        SystemStatus = "changed"
	StatusPending        SystemStatus = "pending_verification"
	StatusRolledBack     SystemStatus = "rolled_back"
	StatusRollbackFailed SystemStatus = "rollback_failed"
	StatusDisabled       SystemStatus = "sync_disabled"
	StatusUnknown        SystemStatus = "unknown"
)

// Step names, in the order the flow runs them.
const (
	StepValidate           = "validate"
	StepCheckMattermost    = "check_mattermost"
	StepCheckZulip         = "check_zulip"
	StepApplyMattermost    = "apply_mattermost"
	StepSyncZulip          = "sync_zulip"
	StepRollbackMattermost = "rollback_mattermost"
)

// Step is one recorded step of a change.
type Step struct {
	Name string    `json:"name"`
	OK   bool      `json:"ok"`
	Code Code      `json:"code,omitempty"`
	At   time.Time `json:"at"`
}

// Change is the durable record of one email change. It holds addresses and
// codes, never credentials.
type Change struct {
	ID          string       `json:"id"`
	UserID      string       `json:"user_id"`
	OldEmail    string       `json:"old_email"`
	NewEmail    string       `json:"new_email"`
	ZulipUserID int          `json:"zulip_user_id,omitempty"`
	State       State        `json:"state"`
	Mattermost  SystemStatus `json:"mattermost"`
	Zulip       SystemStatus `json:"zulip"`
	Code        Code         `json:"code,omitempty"` // why it stopped, when it did
	Steps       []Step       `json:"steps"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

func (c *Change) step(now time.Time, name string, code Code) {
	c.Steps = append(c.Steps, Step{Name: name, OK: code == "", Code: code, At: now})
	c.UpdatedAt = now
}

func newChangeID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
