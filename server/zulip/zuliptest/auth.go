package zuliptest

import (
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// endpoint is an authenticated endpoint: it runs with the requester.
type endpoint func(w http.ResponseWriter, r *http.Request, in *input, me User)

// authed authenticates the request (401), applies the per-user rate limit
// (429, headers on every answer) and runs h.
func (s *Server) authed(w http.ResponseWriter, r *http.Request, in *input, h endpoint) {
	s.mu.Lock()
	me, msg := s.authenticateLocked(r)
	if msg != "" {
		s.mu.Unlock()
		writeUnauthorized(w, msg)
		return
	}
	rr := s.userLimit.take("user:"+strconv.Itoa(me.ID), s.now())
	s.mu.Unlock()
	rr.setHeaders(w.Header())
	if !rr.allowed {
		writeRateLimited(w, rr.retryAfter)
		return
	}
	h(w, r, in, me)
}

// unauthed applies the per-IP limit of unauthenticated endpoints. It reports
// whether the request may go on.
func (s *Server) unauthed(w http.ResponseWriter, r *http.Request) bool {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	s.mu.Lock()
	rr := s.ipLimit.take("ip:"+ip, s.now())
	s.mu.Unlock()
	rr.setHeaders(w.Header())
	if !rr.allowed {
		writeRateLimited(w, rr.retryAfter)
		return false
	}
	return true
}

var apiKeyFormat = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// authenticateLocked checks HTTP basic credentials: username = the account's
// real address (case-insensitive), password = its API key. It returns the
// account, or the 401 message.
func (s *Server) authenticateLocked(r *http.Request) (User, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return User{}, MsgMissingAuth
	}
	email, key, ok := r.BasicAuth()
	if !ok {
		return User{}, MsgNotBasicAuth
	}
	var me User
	found := false
	for _, id := range s.order {
		if u := s.users[id]; u.APIKey != "" && u.APIKey == key {
			me, found = u, true
			break
		}
	}
	if !found {
		if !apiKeyFormat.MatchString(key) {
			return User{}, MsgMalformedAPIKey
		}
		return User{}, MsgInvalidAPIKey
	}
	if !strings.EqualFold(email, me.Email) {
		return User{}, MsgInvalidAPIKey
	}
	if s.realmDeactivated {
		return User{}, MsgRealmDeactivated
	}
	if me.Deactivated {
		return User{}, MsgUserDeactivated
	}
	return me, ""
}
