package zuliptest

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// Request is one request the emulator received.
type Request struct {
	Method      string
	Path        string // the URL path as sent (escaped), e.g. "/api/v1/users/a%2Fb@example.org"
	RawQuery    string
	ContentType string
	Form        url.Values // parsed form body or query string (body values win)
	BodyWasJSON bool
	AuthEmail   string // basic-auth username; the key is never recorded
	UserAgent   string
	Status      int       // what the emulator answered; 0 when it answered nothing
	Target      string    // the decoded {email} or {id} of /users/{...}, if any
	At          time.Time // when the emulator received it
	Done        time.Time // when the emulator finished answering it
}

// Requests returns a copy of the requests answered so far, in the order
// they arrived (a request is recorded once answered, and answers may finish
// out of order).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

// statusWriter remembers the status written, and lets FaultDown hijack the
// connection through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return hj.Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
