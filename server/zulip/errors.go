package zulip

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrMalformedResponse is wrapped when Zulip's answer is not the JSON expected.
var ErrMalformedResponse = errors.New("zulip: malformed response")

// ErrEmailIgnored means Zulip answered success but listed new_email among the
// parameters it ignored: the server cannot change emails this way.
var ErrEmailIgnored = errors.New("zulip: the server ignored new_email")

// Reason is what an API error means for the caller, derived from the HTTP
// status and the JSON code (and, for the generic BAD_REQUEST code, from the
// known English messages, requested with Accept-Language: en).
type Reason int

// The reasons an APIError can carry.
const (
	ReasonUnknown Reason = iota
	ReasonUnauthorized
	ReasonMethodNotAllowed
	ReasonNoSuchUser
	ReasonInsufficientPermission
	ReasonCannotChangeEmails
	ReasonInvalidEmail
	ReasonEmailInUse
	ReasonBadRequest
	ReasonNotFound
	// ReasonBadEventQueue is BAD_EVENT_QUEUE_ID: the event queue is gone
	// (garbage-collected after 10 minutes without a poll, or Zulip lost
	// it). Register a new one, and read the users again: events were missed.
	ReasonBadEventQueue
)

func (r Reason) String() string {
	switch r {
	case ReasonUnauthorized:
		return "unauthorized"
	case ReasonMethodNotAllowed:
		return "method not allowed"
	case ReasonNoSuchUser:
		return "no such user"
	case ReasonInsufficientPermission:
		return "insufficient permission"
	case ReasonCannotChangeEmails:
		return "not authorized to change user emails"
	case ReasonInvalidEmail:
		return "invalid new email"
	case ReasonEmailInUse:
		return "email already in use"
	case ReasonBadRequest:
		return "bad request"
	case ReasonNotFound:
		return "not found"
	case ReasonBadEventQueue:
		return "bad event queue id"
	default:
		return "unknown"
	}
}

// APIError is a 4xx answer from Zulip other than a rate limit.
type APIError struct {
	Op     string // e.g. "PATCH /api/v1/users/{id}"
	Status int
	Code   string // the JSON code, e.g. BAD_REQUEST
	Msg    string // Zulip's text, for logs only
	Reason Reason
}

func (e *APIError) Error() string {
	return fmt.Sprintf("zulip: %s: HTTP %d %s (%s): %q", e.Op, e.Status, e.Code, e.Reason, e.Msg)
}

// RateLimitError is a 429 RATE_LIMIT_HIT answer.
type RateLimitError struct {
	Op         string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("zulip: %s: rate limit hit, retry after %s", e.Op, e.RetryAfter)
}

// UnavailableError is a transient failure: the server could not be reached,
// timed out, answered 5xx, or answered something that is not Zulip's JSON.
// For a call that changes data, the outcome is unknown.
type UnavailableError struct {
	Op     string
	Status int // 0 when no answer arrived
	Err    error
}

func (e *UnavailableError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("zulip: %s: unavailable (HTTP %d): %v", e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("zulip: %s: unavailable: %v", e.Op, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// IsTransient reports whether err is worth retrying later.
func IsTransient(err error) bool {
	var ue *UnavailableError
	var rl *RateLimitError
	return errors.As(err, &ue) || errors.As(err, &rl)
}

// ReasonOf returns the Reason of an *APIError in err's chain, or ReasonUnknown.
func ReasonOf(err error) Reason {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ReasonUnknown
}

type errorBody struct {
	Result     string   `json:"result"`
	Msg        string   `json:"msg"`
	Code       string   `json:"code"`
	RetryAfter *float64 `json:"retry-after"`
}

func errorFromResponse(op string, resp *http.Response, body []byte) error {
	var eb errorBody
	jsonErr := json.Unmarshal(body, &eb)
	status := resp.StatusCode

	if status == http.StatusTooManyRequests {
		return &RateLimitError{Op: op, RetryAfter: retryAfter(eb.RetryAfter, resp.Header.Get("Retry-After"))}
	}
	if status >= 500 {
		return &UnavailableError{Op: op, Status: status, Err: errors.New(http.StatusText(status))}
	}
	if jsonErr != nil && status != http.StatusMethodNotAllowed {
		// A 4xx that is not Zulip's JSON: a proxy or a wrong URL.
		return &APIError{Op: op, Status: status, Msg: snippet(body), Reason: reasonForStatus(status, "")}
	}
	return &APIError{Op: op, Status: status, Code: eb.Code, Msg: snippet([]byte(eb.Msg)), Reason: reasonFor(status, eb.Code, eb.Msg)}
}

func reasonForStatus(status int, code string) Reason {
	switch {
	case status == http.StatusUnauthorized || code == "UNAUTHORIZED":
		return ReasonUnauthorized
	case status == http.StatusMethodNotAllowed:
		return ReasonMethodNotAllowed
	case status == http.StatusNotFound:
		return ReasonNotFound
	case status == http.StatusForbidden:
		return ReasonInsufficientPermission
	default:
		return ReasonBadRequest
	}
}

// knownMessages maps Zulip's English BAD_REQUEST texts to reasons. Zulip
// gives all of them the same code, so the text is the only distinction;
// callers that know which check a request can fail treat any BAD_REQUEST
// by context too, so a localised text degrades to ReasonBadRequest safely.
var knownMessages = []struct {
	prefix string
	reason Reason
}{
	{"No such user", ReasonNoSuchUser},
	{"Insufficient permission", ReasonInsufficientPermission},
	{"User not authorized to change user emails", ReasonCannotChangeEmails},
	{"Invalid new email address", ReasonInvalidEmail},
	{"New email value error", ReasonEmailInUse},
}

func reasonFor(status int, code, msg string) Reason {
	if status == http.StatusBadRequest && code == "BAD_EVENT_QUEUE_ID" {
		return ReasonBadEventQueue
	}
	if status != http.StatusBadRequest || code != "BAD_REQUEST" {
		return reasonForStatus(status, code)
	}
	for _, km := range knownMessages {
		if strings.HasPrefix(msg, km.prefix) {
			return km.reason
		}
	}
	return ReasonBadRequest
}

// retryAfter is the wait a 429 asks for, from the JSON body or else the
// Retry-After header (seconds), capped at MaxRateLimitWait.
func retryAfter(fromBody *float64, header string) time.Duration {
	secs := 0.0
	if fromBody != nil {
		secs = *fromBody
	} else if f, err := strconv.ParseFloat(strings.TrimSpace(header), 64); err == nil || errors.Is(err, strconv.ErrRange) {
		secs = f
	}
	switch {
	case secs <= 0 || math.IsNaN(secs):
		return 0
	case secs >= MaxRateLimitWait.Seconds(): // never believed longer (and no overflow)
		return MaxRateLimitWait
	}
	return time.Duration(secs * float64(time.Second))
}

func snippet(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
