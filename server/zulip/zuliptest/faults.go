package zuliptest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what a Fault does to a request.
type FaultKind int

// Fault kinds.
const (
	// FaultDown hijacks and closes the connection without answering. Note
	// that Go's http.Transport silently retries an idempotent request (GET)
	// once when a reused keep-alive connection closes like this, so a
	// Times: 1 fault may go unnoticed by such a client.
	FaultDown FaultKind = iota + 1
	// FaultStatus answers Status with a Zulip-style error body (a plain HTML
	// body for 502, 503 and 504, as a proxy in front of Zulip would).
	FaultStatus
	// FaultSlow sleeps Delay (giving up if the request is cancelled) and then
	// handles the request normally.
	FaultSlow
	// FaultMalformed answers 200 with a truncated JSON body.
	FaultMalformed
	// FaultRedirect answers Status (302 when zero) with the header
	// "Location: " + Location and a small HTML page, as a proxy, a login
	// portal or a moved site would. The request is not handled: nothing
	// changes.
	FaultRedirect
	// FaultLateCommit sleeps Delay IGNORING the client's cancellation, then
	// handles the request normally: a PATCH that the client gave up on (its
	// timeout shorter than Delay) still commits, and its answer goes
	// nowhere. This is the "outcome unknown" case of a timed-out change.
	// Server.Close waits for running handlers, so it may block for up to
	// Delay: keep Delay bounded (a little longer than the client's timeout).
	FaultLateCommit
)

// Fault makes matching requests fail. The first matching fault applies.
type Fault struct {
	Method string // "" = any
	Path   string // prefix of the (decoded) URL path, e.g. "/api/v1/users/"; "" = any
	Kind   FaultKind
	Status int           // FaultStatus (500 when zero), FaultRedirect (302 when zero)
	Delay  time.Duration // FaultSlow, FaultLateCommit; for FaultStatus 429 the retry-after
	Times  int           // how many requests it affects; 0 = until cleared
	Skip   int           // let this many matching requests through first
	// Location is the Location header of FaultRedirect; none when empty.
	Location string
}

// AddFault adds a fault after the existing ones.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching the request, using one of its
// Times.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return Fault{}, false
		}
		got := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return got, true
	}
	return Fault{}, false
}

// applyFault acts out f. It reports whether the request is finished.
func applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case FaultDown:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler) // the server drops the connection
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
		return true
	case FaultStatus:
		writeFaultStatus(w, f)
		return true
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			return true
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"result":"success","msg":"","user":{"user_id":`))
		return true
	case FaultRedirect:
		writeRedirect(w, f)
		return true
	case FaultLateCommit:
		time.Sleep(f.Delay) // deliberately deaf to r.Context()
		return false
	}
	return false
}

func writeRedirect(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusFound
	}
	if f.Location != "" {
		w.Header().Set("Location", f.Location)
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	_, _ = w.Write([]byte("<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"))
}

func writeFaultStatus(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		text := http.StatusText(status)
		_, _ = w.Write([]byte("<html>\r\n<head><title>" + strconv.Itoa(status) + " " + text +
			"</title></head>\r\n<body>\r\n<center><h1>" + strconv.Itoa(status) + " " + text +
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"))
	case http.StatusUnauthorized:
		writeUnauthorized(w, MsgInvalidAPIKey)
	case http.StatusTooManyRequests:
		retry := f.Delay.Seconds()
		if f.Delay <= 0 {
			retry = 1
		}
		writeRateLimited(w, retry)
	case http.StatusMethodNotAllowed:
		writeMethodNotAllowed(w, "GET", "HEAD")
	default:
		msg := http.StatusText(status)
		if msg == "" {
			msg = "Error"
		}
		writeError(w, status, CodeBadRequest, msg)
	}
}
