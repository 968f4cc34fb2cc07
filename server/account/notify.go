package account

// This file tells users what happened outside a command's reply: a direct
// message from the plugin's bot, worded at the edge from a Notice.

// NoticeKind is why the bot writes to a user.
type NoticeKind string

// The kinds of notices.
const (
	// NoticeOutcome: a change moved on outside a command's reply: where it
	// ended, or that a link waits to be opened (State.Notifies).
	NoticeOutcome NoticeKind = "outcome"
	// NoticeOnBehalf: an admin asked to change the user's email.
	NoticeOnBehalf NoticeKind = "on_behalf"
	// NoticeOffer: Zulip's address was changed elsewhere; the user is
	// offered it for Mattermost too (Offer), with buttons to answer.
	NoticeOffer NoticeKind = "offer"
	// NoticeApplied: Zulip's address was changed elsewhere and Account Sync
	// applied it to Mattermost without asking (ApplyZulipChanges): where
	// that stands, or why it was not made.
	NoticeApplied NoticeKind = "applied"
	// NoticeMigration: how a domain migration goes (Migration), for the
	// admin who started it: each tenth of the way, and at its end.
	NoticeMigration NoticeKind = "migration"
	// NoticeMigrationPlan: a domain migration was planned (Migration), for
	// the admin who planned it, to read and start.
	NoticeMigrationPlan NoticeKind = "migration_plan"
)

// Notice is what the bot tells a user: the kind, the change's result, and
// for NoticeOnBehalf the admin who asked ("@name", or their user ID when
// the name cannot be read).
type Notice struct {
	Kind      NoticeKind
	Offer     Offer     // for NoticeOffer
	Migration Migration // for NoticeMigration
	Result    Result
	Admin     string
}

// Notifies reports whether a change that reached s outside a command's
// reply is told to its user: where it ended, or a link that waits.
func (s State) Notifies() bool {
	switch s {
	case StateDone, StatePendingVerification, StateFailed, StateExpired, StateRolledBack, StateNeedsAttention, StateRollbackPendingVerification:
		return true
	default:
		return false
	}
}

// notifyOnBehalf tells a user that an admin changed, or started to change,
// their email.
func (s *Service) notifyOnBehalf(res Result) {
	admin := res.Change.RequestedBy
	if u, err := s.mm.GetUser(admin); err == nil && u.Username != "" {
		admin = "@" + u.Username
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, Notice{Kind: NoticeOnBehalf, Result: res, Admin: admin}); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the user about an admin's change", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}

// notify sends the user a direct message about where their change ended.
func (s *Service) notify(res Result) {
	if !res.Change.State.Notifies() {
		return
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, Notice{Kind: NoticeOutcome, Result: res}); err != nil {
		s.opts.Logger.Warn("account sync: could not send the user a direct message", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}
