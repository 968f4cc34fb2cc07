package zuliptest

import (
	"net/http"
	"strconv"
	"strings"
)

// reply is an answer computed under the lock and written after it.
type reply struct {
	status  int
	code    string
	msg     string
	ignored []string
	fields  map[string]any
}

func (s *Server) write(w http.ResponseWriter, level int, rp reply) {
	if rp.status != http.StatusOK {
		writeErrorFields(w, rp.status, rp.code, rp.msg, rp.fields)
		return
	}
	writeSuccess(w, level, rp.ignored, rp.fields)
}

func badRequest(msg string) reply {
	return reply{status: http.StatusBadRequest, code: CodeBadRequest, msg: msg}
}

func success(ignored []string, fields map[string]any) reply {
	return reply{status: http.StatusOK, ignored: ignored, fields: fields}
}

// handleGetUserByEmail is GET /users/{email} (feature level 39+).
func (s *Server) handleGetUserByEmail(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	target, ok := s.lookupLocked(me, in.target)
	rp := s.getUserReplyLocked(in, me, target, ok)
	s.mu.Unlock()
	s.write(w, level, rp)
}

// handleGetUserByID is GET /users/{id}.
func (s *Server) handleGetUserByID(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	target, ok := s.byIDLocked(in.target)
	rp := s.getUserReplyLocked(in, me, target, ok)
	s.mu.Unlock()
	s.write(w, level, rp)
}

func (s *Server) getUserReplyLocked(in *input, me, target User, found bool) reply {
	if !found {
		return badRequest(MsgNoSuchUser)
	}
	gravatar, profile := s.userOptionsLocked(in)
	user := s.userObjectLocked(me, target, gravatar, profile)
	return success(in.unsupported("client_gravatar", "include_custom_profile_fields"), map[string]any{"user": user})
}

// userOptionsLocked reads the client_gravatar and
// include_custom_profile_fields parameters of the GET user endpoints.
func (s *Server) userOptionsLocked(in *input) (gravatar, profile bool) {
	gravatar = s.level >= 92
	if v, ok := in.param("client_gravatar"); ok {
		gravatar = parseBool(v, gravatar)
	}
	if v, ok := in.param("include_custom_profile_fields"); ok {
		profile = parseBool(v, false)
	}
	return gravatar, profile
}

// handleGetUsers is GET /users: every user of the organization, deactivated
// ones and bots included, each as the requester may see it.
func (s *Server) handleGetUsers(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	gravatar, profile := s.userOptionsLocked(in)
	members := make([]map[string]any, 0, len(s.order))
	for _, id := range s.order {
		members = append(members, s.userObjectLocked(me, s.users[id], gravatar, profile))
	}
	s.mu.Unlock()
	s.write(w, level, success(in.unsupported("client_gravatar", "include_custom_profile_fields"), map[string]any{"members": members}))
}

// handleGetMe is GET /users/me: the requester's own data, at the top level.
func (s *Server) handleGetMe(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	fields := s.userObjectLocked(me, me, false, !me.IsBot)
	delete(fields, "bot_type")
	delete(fields, "bot_owner_id")
	fields["delivery_email"] = me.Email
	fields["max_message_id"] = -1
	s.mu.Unlock()
	s.write(w, level, success(in.unsupported(), fields))
}

// handlePatchUserByEmail is PATCH /users/{email} (feature level 313+), in
// the order of checks of CONTRACT.md.
func (s *Server) handlePatchUserByEmail(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	rp := s.patchByEmailLocked(in, me)
	s.mu.Unlock()
	s.write(w, level, rp)
}

func (s *Server) patchByEmailLocked(in *input, me User) reply {
	target, ok := s.lookupLocked(me, in.target)
	return s.updateUserLocked(in, me, target, ok, true)
}

// handlePatchUserByID is PATCH /users/{id}. From feature level 313 it takes
// new_email with the same checks as PATCH /users/{email}, the target found
// by ID whatever its email visibility. Below, new_email is not one of its
// parameters: from level 167 it is listed in ignored_parameters_unsupported.
func (s *Server) handlePatchUserByID(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	target, ok := s.byIDLocked(in.target)
	rp := s.updateUserLocked(in, me, target, ok, level >= 313)
	s.mu.Unlock()
	s.write(w, level, rp)
}

// updateUserLocked is Zulip's update_user_backend from the target lookup on
// (CONTRACT.md's checks 4 to 10), shared by both PATCH routes. Without
// newEmailSupported, new_email is an unknown parameter.
func (s *Server) updateUserLocked(in *input, me, target User, found, newEmailSupported bool) reply {
	if !found {
		return badRequest(MsgNoSuchUser)
	}
	if !canAdmin(me, target) {
		return badRequest(MsgInsufficientPerm)
	}
	if !newEmailSupported {
		return success(in.unsupported("full_name", "role", "profile_data"), nil)
	}
	ignored := in.unsupported("full_name", "role", "profile_data", "new_email")
	newEmail, ok := in.param("new_email")
	if !ok {
		return success(ignored, nil)
	}
	if !me.CanChangeUserEmails {
		return badRequest(MsgNotAuthorized)
	}
	if newEmail == target.Email {
		return success(ignored, nil)
	}
	if !ValidEmail(newEmail) {
		return badRequest(MsgInvalidNewEmail)
	}
	if s.isSystemBotLocked(newEmail) {
		return badRequest(MsgReservedSystemBots)
	}
	if other, taken := s.byEmailLocked(newEmail); taken {
		if other.Deactivated {
			return badRequest(MsgAccountDeactivated)
		}
		return badRequest(MsgAlreadyHasAccount)
	}
	target.Email = newEmail
	s.storeUserLocked(target)
	return success(ignored, nil)
}

func (s *Server) byIDLocked(id string) (User, bool) {
	n, err := strconv.Atoi(id)
	if err != nil {
		return User{}, false
	}
	u, ok := s.users[n]
	return u, ok
}

func parseBool(v string, def bool) bool {
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return def
}
