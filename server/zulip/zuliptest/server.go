package zuliptest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Defaults of a new Server.
const (
	DefaultFeatureLevel = 332
	DefaultHost         = "zulip.example.com"
	DefaultRateLimit    = 200 // requests per DefaultRateWindow per authenticated user
	DefaultIPRateLimit  = 100 // unauthenticated requests per DefaultRateWindow per IP
	DefaultRateWindow   = 60 * time.Second
)

// DefaultSystemBots are the cross-realm bot addresses no user may take.
var DefaultSystemBots = []string{
	"notification-bot@zulip.com",
	"welcome-bot@zulip.com",
	"emailgateway@zulip.com",
}

// Server is a running emulated Zulip organization. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL of the server, e.g. "http://127.0.0.1:34567".
	URL string

	ts          *httptest.Server
	handler     http.Handler
	middlewares []func(http.Handler) http.Handler

	mu               sync.Mutex
	now              func() time.Time
	host             string
	level            int
	realmDeactivated bool
	systemBots       []string
	users            map[int]User
	order            []int // user IDs in insertion order
	nextID           int
	userLimit        rateLimiter
	ipLimit          rateLimiter
	faults           []*Fault
	requests         []Request
	messages         []DirectMessage
	nextMessageID    int
	events           eventState
}

// Option configures a Server.
type Option func(*Server)

// WithFeatureLevel sets the API feature level (default 332).
func WithFeatureLevel(n int) Option { return func(s *Server) { s.level = n } }

// WithHost sets the realm host used in dummy addresses user{ID}@{host}
// (default "zulip.example.com").
func WithHost(host string) Option { return func(s *Server) { s.host = host } }

// WithMiddleware wraps the server's handler. The first one given is the
// outermost.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.middlewares = append(s.middlewares, mw) }
}

// WithRateLimit sets the per-user limit: n requests per window (default 200
// per 60 s).
func WithRateLimit(n int, window time.Duration) Option {
	return func(s *Server) { s.userLimit.set(n, window) }
}

// ResetRateLimits forgets the requests the rate limits counted so far.
func (s *Server) ResetRateLimits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLimit.hits = nil
	s.ipLimit.hits = nil
}

// clock reads the server's clock.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// WithIPRateLimit sets the per-IP limit of unauthenticated requests (default
// 100 per 60 s).
func WithIPRateLimit(n int, window time.Duration) Option {
	return func(s *Server) { s.ipLimit.set(n, window) }
}

// WithSystemBots replaces the addresses reserved for system bots.
func WithSystemBots(emails ...string) Option {
	return func(s *Server) { s.systemBots = append([]string(nil), emails...) }
}

// NewServer starts an emulated Zulip server listening on 127.0.0.1.
func NewServer(opts ...Option) *Server {
	s := newServer(opts...)
	s.ts = httptest.NewServer(s.handler)
	s.URL = s.ts.URL
	return s
}

// newServer builds a Server without starting a listener.
func newServer(opts ...Option) *Server {
	s := &Server{
		now:        time.Now,
		host:       DefaultHost,
		level:      DefaultFeatureLevel,
		systemBots: append([]string(nil), DefaultSystemBots...),
		users:      make(map[int]User),
		nextID:     8,
		events:     newEventState(),
	}
	s.userLimit.set(DefaultRateLimit, DefaultRateWindow)
	s.ipLimit.set(DefaultIPRateLimit, DefaultRateWindow)
	for _, opt := range opts {
		opt(s)
	}
	var h http.Handler = http.HandlerFunc(s.serve)
	for i := len(s.middlewares) - 1; i >= 0; i-- {
		h = s.middlewares[i](h)
	}
	s.handler = h
	return s
}

// Close shuts the server down. Waiting GET /events answer at once.
func (s *Server) Close() {
	s.stopPolls()
	if s.ts != nil {
		s.ts.Close()
	}
}

// Handler returns the server's handler, middlewares included.
func (s *Server) Handler() http.Handler { return s.handler }

// SetFeatureLevel changes the API feature level.
func (s *Server) SetFeatureLevel(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.level = n
}

// FeatureLevel returns the current API feature level.
func (s *Server) FeatureLevel() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.level
}

// SetRateLimit changes the per-user limit to n requests per window. Requests
// already counted stay counted.
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLimit.set(n, window)
}

// SetRealmDeactivated deactivates (or reactivates) the organization: every
// authenticated request then gets 401.
func (s *Server) SetRealmDeactivated(deactivated bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.realmDeactivated = deactivated
}

// Host returns the realm host used in dummy addresses.
func (s *Server) Host() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host
}
