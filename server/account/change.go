package account

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// State is where a change stands. The allowed moves between states are the
// table in state.go; open states are carried on by the background job.
type State string

// The states of a change.
const (
	StateNew                 State = ""                     // the zero state: in memory only, before anything is stored
	StateRefused             State = "refused"              // stopped before anything was stored; never stored
	StateStarted             State = "started"              // in flight: the command or the job is making it
	StateWaitingForZulip     State = "waiting_for_zulip"    // nothing changed yet; the whole change is retried
	StatePendingVerification State = "pending_verification" // Mattermost mailed a link; Zulip follows once it is opened
	StateMattermostChanged   State = "mattermost_changed"   // Mattermost has the new address; Zulip is retried
	// StateRollbackPendingVerification: Zulip refused after Mattermost
	// changed, and Mattermost holds the way back for a link mailed to the
	// old address (Require Email Verification is on).
	StateRollbackPendingVerification State = "rollback_pending_verification"
	StateDone                        State = "done"            // changed everywhere it should be
	StateRolledBack                  State = "rolled_back"     // Zulip refused, Mattermost put back
	StateFailed                      State = "failed"          // stopped for good; nothing was changed
	StateExpired                     State = "expired"         // the confirmation link was not opened in time
	StateCancelled                   State = "cancelled"       // dropped by the user before anything changed
	StateNeedsAttention              State = "needs_attention" // the systems may differ: an admin must look
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
	// StatusRollbackPending: the old address waits for its confirmation link.
	StatusRollbackPending SystemStatus = "rollback_pending_verification"
	StatusDisabled        SystemStatus = "sync_disabled"
	StatusUnknown         SystemStatus = "unknown"
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
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	RequestedBy string `json:"requested_by,omitempty"` // who asked (the user themselves, or an admin)
	// Origin is where the change was made when not through Account Sync:
	// OriginMattermostElsewhere for a change made in Mattermost by other
	// means that Account Sync forwards to Zulip. Empty for a change asked of
	// Account Sync.
	Origin string `json:"origin,omitempty"`
	// MigrationID is the domain migration a change of OriginMigration
	// belongs to.
	MigrationID string `json:"migration_id,omitempty"`
	// AgreedBefore is the link's agreed address when the change moved it
	// (before acting); a change that does not go through puts it back.
	AgreedBefore string       `json:"agreed_before,omitempty"`
	OldEmail     string       `json:"old_email"`
	NewEmail     string       `json:"new_email"`
	ZulipUserID  int          `json:"zulip_user_id,omitempty"`
	State        State        `json:"state"`
	Mattermost   SystemStatus `json:"mattermost"`
	Zulip        SystemStatus `json:"zulip"`
	Code         Code         `json:"code,omitempty"` // why it stopped, when it did
	Steps        []Step       `json:"steps"`
	// Attempts counts the tries made in the background; NextAttemptAt is
	// when the job tries next; GiveUpAt is when retrying stops.
	Attempts      int        `json:"attempts,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	GiveUpAt      *time.Time `json:"give_up_at,omitempty"`
	LastError     *LastError `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// Version is the store's compare-and-set counter: a save succeeds only
	// over the version it was read at.
	Version int64 `json:"version"`
}

// LastError is the latest failure of a change: its code and safe facts,
// never the underlying error nor a text (the edge words it when shown).
type LastError struct {
	Code Code `json:"code"`
	// Text is the rendered text records saved by earlier versions kept; it
	// is no longer written, and an old record shows it as it was saved.
	Text string `json:"text,omitempty"`
	// Detail is the failure's safe fact (an address Mattermost has now, an
	// auth service name), for texts rendered later.
	Detail string `json:"detail,omitempty"`
	// RetryAfter is how long Zulip asked to wait, when it did.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	At         time.Time     `json:"at"`
}

func (c *Change) step(now time.Time, name string, code Code) {
	c.Steps = append(c.Steps, Step{Name: name, OK: code == "", Code: code, At: now})
	c.UpdatedAt = now
}

// isChangeID tells an id of newChangeID's form: 24 lower-case hex digits.
func isChangeID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

func newChangeID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
