package zuliptest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AddUser stores u, assigning an ID when u.ID is zero, and returns the
// stored copy. It panics if the ID or the address (case-insensitively) is
// already taken: that is a mistake in the test.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u = u.normalized()
	if u.ID == 0 {
		u.ID = s.nextID
	}
	if _, ok := s.users[u.ID]; ok {
		panic(fmt.Sprintf("zuliptest: AddUser: user ID %d already exists", u.ID))
	}
	if other, ok := s.byEmailLocked(u.Email); ok {
		panic(fmt.Sprintf("zuliptest: AddUser: address %q already belongs to user %d", u.Email, other.ID))
	}
	if u.DateJoined.IsZero() {
		u.DateJoined = s.now().UTC()
	}
	if u.ID >= s.nextID {
		s.nextID = u.ID + 1
	}
	s.users[u.ID] = u
	s.order = append(s.order, u.ID)
	return u
}

// AddBot adds a bot account that can authenticate with apiKey.
func (s *Server) AddBot(email, apiKey string, role Role, canChangeUserEmails bool) User {
	name := email
	if i := strings.IndexByte(name, '@'); i > 0 {
		name = name[:i]
	}
	return s.AddUser(User{
		Email:               email,
		FullName:            name,
		Role:                role,
		IsBot:               true,
		APIKey:              apiKey,
		CanChangeUserEmails: canChangeUserEmails,
		EmailVisibility:     VisibilityEveryone,
	})
}

// User returns the user with the given ID.
func (s *Server) User(id int) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	return u, ok
}

// UserByEmail finds a user by real address, case-insensitively, ignoring
// visibility rules.
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byEmailLocked(email)
}

// Users returns every user, in the order they were added.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.users[id])
	}
	return out
}

// UpdateUser replaces the stored user with the same ID, with the realm_user
// events Zulip sends for what changed (address, visibility, activation) to
// the event queues. It panics if there is none, or if the new address
// belongs to another user.
func (s *Server) UpdateUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[u.ID]
	if !ok {
		panic(fmt.Sprintf("zuliptest: UpdateUser: no user with ID %d", u.ID))
	}
	if other, ok := s.byEmailLocked(u.Email); ok && other.ID != u.ID {
		panic(fmt.Sprintf("zuliptest: UpdateUser: address %q already belongs to user %d", u.Email, other.ID))
	}
	u = u.normalized()
	if u.DateJoined.IsZero() {
		u.DateJoined = old.DateJoined
	}
	s.storeUserLocked(u)
}

// DummyEmail returns the address user{id}@{host} that always reaches a user.
func (s *Server) DummyEmail(id int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dummyEmailLocked(id)
}

func (s *Server) dummyEmailLocked(id int) string {
	return "user" + strconv.Itoa(id) + "@" + s.host
}

// apiEmailLocked is the address Zulip's API shows for u: the real one when
// everyone may see it, the dummy one otherwise.
func (s *Server) apiEmailLocked(u User) string {
	if u.effectiveVisibility() == VisibilityEveryone {
		return u.Email
	}
	return s.dummyEmailLocked(u.ID)
}

func (s *Server) byEmailLocked(email string) (User, bool) {
	for _, id := range s.order {
		if u := s.users[id]; strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return User{}, false
}

// byAPIEmailLocked finds a user by the address the API shows for it (the
// real one when everyone may see it, else the dummy one), case-insensitively:
// how Zulip resolves message recipients given by email.
func (s *Server) byAPIEmailLocked(email string) (User, bool) {
	for _, id := range s.order {
		if u := s.users[id]; strings.EqualFold(s.apiEmailLocked(u), email) {
			return u, true
		}
	}
	return User{}, false
}

var dummyEmailRE = regexp.MustCompile(`(?i)^user([0-9]+)@(.+)$`)

// lookupLocked finds the target of /users/{email} as requester sees it:
// the dummy address is an ID lookup that always works; a real address is
// matched case-insensitively among the users whose visibility lets requester
// see it. Below feature level 302 only the API address (real when visible to
// everyone, dummy otherwise) matches.
func (s *Server) lookupLocked(requester User, email string) (User, bool) {
	if m := dummyEmailRE.FindStringSubmatch(email); s.level >= 302 && m != nil && strings.EqualFold(m[2], s.host) {
		if id, err := strconv.Atoi(m[1]); err == nil {
			if u, ok := s.users[id]; ok {
				return u, true
			}
		}
	}
	for _, id := range s.order {
		u := s.users[id]
		if s.level < 302 {
			if strings.EqualFold(s.apiEmailLocked(u), email) {
				return u, true
			}
			continue
		}
		if strings.EqualFold(u.Email, email) && canSeeEmailOf(requester, u) {
			return u, true
		}
	}
	return User{}, false
}

// isSystemBotLocked reports whether email is reserved for a system bot.
func (s *Server) isSystemBotLocked(email string) bool {
	for _, b := range s.systemBots {
		if strings.EqualFold(b, email) {
			return true
		}
	}
	return false
}
