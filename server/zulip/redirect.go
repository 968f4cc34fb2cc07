package zulip

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// RedirectError is a 3xx answer. The client never follows redirects: the
// site URL is wrong (http instead of https, a moved host, a proxy login).
type RedirectError struct {
	Op     string // e.g. "PATCH /api/v1/users/{id}"
	Status int
	// TargetScheme and TargetHost are where the Location header points,
	// resolved against the request URL; empty when it is absent or not a
	// URL. Its path and query are never kept: they may hold addresses or
	// tokens.
	TargetScheme, TargetHost string
}

func (e *RedirectError) Error() string {
	to := "a redirect without a usable Location"
	if e.TargetHost != "" {
		to = "a redirect to " + e.TargetScheme + "://" + e.TargetHost
	}
	return fmt.Sprintf("zulip: %s: answered HTTP %d, %s (not followed: set the Zulip site URL to the final address)", e.Op, e.Status, to)
}

// IsRedirect reports whether err is a 3xx answer.
func IsRedirect(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

// redirectError builds the error for a 3xx answer to a request for reqURL.
func redirectError(op string, reqURL *url.URL, resp *http.Response) *RedirectError {
	e := &RedirectError{Op: op, Status: resp.StatusCode}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return e
	}
	target, err := reqURL.Parse(loc)
	if err != nil || target.Host == "" {
		return e
	}
	e.TargetScheme, e.TargetHost = target.Scheme, target.Host
	return e
}
