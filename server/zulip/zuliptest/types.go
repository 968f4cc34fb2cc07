// Package zuliptest is an in-process emulator of the parts of Zulip's REST
// API that deal with users' email addresses (and the direct messages that
// carry one-time codes), for tests. It follows
// shared/zulip/CONTRACT.md (beside the repository) (how a real Zulip server behaves) and answers
// in the shapes of Zulip's OpenAPI description; see the spectest sub-package
// for checking traffic against that description.
//
// Start one with NewServer, add accounts with AddUser/AddBot, point the
// client under test at Server.URL, then inspect Requests(), the stored
// users and DirectMessages(). Faults (AddFault) simulate outages, slowness,
// garbage, redirects and changes that commit after the client gave up.
//
// Real-time events (events.go): POST /register creates an event queue,
// GET /events long-polls it (a heartbeat after WithEventHeartbeat), DELETE
// /events deletes it; queues nobody polls expire (WithEventQueueTimeout,
// ExpireEventQueues) and then answer BAD_EVENT_QUEUE_ID. Every change of a
// user's address, email visibility or activation, by the API or by a test
// (UpdateUser, ChangeEmailInSettings, SetDeactivated), sends realm_user
// events, delivery_email only to those who may see the address.
package zuliptest

import "time"

// Role is a Zulip organization-level role.
type Role int

// Zulip's role values.
const (
	RoleOwner     Role = 100
	RoleAdmin     Role = 200
	RoleModerator Role = 300
	RoleMember    Role = 400
	RoleGuest     Role = 600
)

// Visibility is a user's email_address_visibility setting: who may see the
// user's real (delivery) address.
type Visibility int

// Zulip's email_address_visibility values.
const (
	VisibilityEveryone   Visibility = 1
	VisibilityMembers    Visibility = 2
	VisibilityAdmins     Visibility = 3
	VisibilityNobody     Visibility = 4
	VisibilityModerators Visibility = 5
)

// User is one account of the emulated organization.
type User struct {
	ID                  int
	Email               string // delivery (real) address
	FullName            string
	Role                Role // zero value means RoleMember
	IsBot               bool
	Deactivated         bool
	APIKey              string     // only accounts that authenticate need one
	CanChangeUserEmails bool       // the special permission
	EmailVisibility     Visibility // zero value means VisibilityEveryone; bots always count as VisibilityEveryone

	// BotOwnerID is the owner of a bot; a bot's owner may administer it
	// (Zulip's can_admin_user). Zero means none.
	BotOwnerID int
	// DateJoined defaults to the time the user was added.
	DateJoined time.Time
}

// normalized fills the zero values with their documented meanings.
func (u User) normalized() User {
	if u.Role == 0 {
		u.Role = RoleMember
	}
	if u.EmailVisibility == 0 {
		u.EmailVisibility = VisibilityEveryone
	}
	return u
}

// isAdmin reports whether the role is organization owner or administrator.
func (r Role) isAdmin() bool { return r == RoleOwner || r == RoleAdmin }

// effectiveVisibility is the visibility Zulip applies: bots always show their
// real address.
func (u User) effectiveVisibility() Visibility {
	if u.IsBot {
		return VisibilityEveryone
	}
	return u.EmailVisibility
}

// canSeeEmailOf reports whether viewer may see target's real address, by
// target's visibility setting and viewer's role.
func canSeeEmailOf(viewer, target User) bool {
	switch target.effectiveVisibility() {
	case VisibilityEveryone:
		return true
	case VisibilityMembers:
		return viewer.Role != RoleGuest
	case VisibilityModerators:
		return viewer.Role.isAdmin() || viewer.Role == RoleModerator
	case VisibilityAdmins:
		return viewer.Role.isAdmin()
	default: // VisibilityNobody and unknown values
		return false
	}
}

// canAdmin is Zulip's can_admin_user: administrators may administer anyone,
// a bot's owner may administer the bot.
func canAdmin(actor, target User) bool {
	if target.IsBot && target.BotOwnerID != 0 && target.BotOwnerID == actor.ID {
		return true
	}
	return actor.Role.isAdmin()
}
