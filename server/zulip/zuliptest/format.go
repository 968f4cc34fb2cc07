package zuliptest

import (
	"crypto/md5" //nolint:gosec // Gravatar addresses avatars by MD5
	"encoding/hex"
	"strings"
)

// userObjectLocked renders target as viewer may see it, in the shape of the
// spec's User schema (Zulip's format_user_row).
func (s *Server) userObjectLocked(viewer, target User, clientGravatar, profileData bool) map[string]any {
	canSee := canSeeEmailOf(viewer, target)
	m := map[string]any{
		"user_id":        target.ID,
		"email":          s.apiEmailLocked(target),
		"full_name":      target.FullName,
		"date_joined":    target.DateJoined.UTC().Format("2006-01-02T15:04-07:00"),
		"is_active":      !target.Deactivated,
		"is_admin":       target.Role.isAdmin(),
		"is_guest":       target.Role == RoleGuest,
		"is_bot":         target.IsBot,
		"timezone":       "",
		"avatar_version": 1,
	}
	switch {
	case s.level >= 163 && canSee:
		m["delivery_email"] = target.Email
	case s.level >= 163:
		m["delivery_email"] = nil
	case canSee && target.effectiveVisibility() != VisibilityEveryone:
		m["delivery_email"] = target.Email
	}
	if s.level >= 8 {
		m["is_owner"] = target.Role == RoleOwner
	}
	if s.level >= 59 {
		m["role"] = int(target.Role)
	}
	if s.level >= 73 {
		m["is_billing_admin"] = false
	}
	if clientGravatar && canSee {
		m["avatar_url"] = nil
	} else {
		m["avatar_url"] = gravatarURL(target.Email)
	}
	if target.IsBot {
		m["bot_type"] = 1
		if target.BotOwnerID != 0 {
			m["bot_owner_id"] = target.BotOwnerID
		} else {
			m["bot_owner_id"] = nil
		}
	} else if profileData {
		m["profile_data"] = map[string]any{}
	}
	return m
}

func gravatarURL(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email))) //nolint:gosec // Gravatar addresses avatars by MD5
	return "https://secure.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?d=identicon&version=1"
}
