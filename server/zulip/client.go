// Package zulip is a small client for the parts of Zulip's REST API that
// Account Sync needs: reading server settings, looking users up (by email,
// by ID, or all of them), changing a user's email as an administrator bot,
// and sending a user a direct message. It never follows redirects and
// speaks plain http only to loopback hosts unless told otherwise. It knows
// nothing of Mattermost.
package zulip

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const (
	// maxBodyBytes bounds every response body the client reads, except the
	// member list.
	maxBodyBytes = 1 << 20
	// maxMembersBytes bounds the answer of GET /users: every member of a
	// large organisation.
	maxMembersBytes = 32 << 20
	// DefaultTimeout is used when Config.Timeout is zero.
	DefaultTimeout = 10 * time.Second
)

// Config holds what a Client needs to reach one Zulip organisation.
type Config struct {
	// SiteURL is the organisation's base URL, e.g. https://chat.example.org.
	SiteURL string
	// BotEmail and APIKey are the credentials of the owner/administrator bot.
	BotEmail string
	APIKey   string
	// UserAgent names the client and its version.
	UserAgent string
	// Timeout bounds each call; DefaultTimeout when zero.
	Timeout time.Duration
	// HTTPClient is used when set (tests); otherwise one with Timeout. The
	// client works on a copy that never follows redirects.
	HTTPClient *http.Client
	// AllowPlainHTTP permits an http:// SiteURL whose host is not loopback.
	AllowPlainHTTP bool
	// Observe, when set, is told of every request sent to Zulip (each try,
	// once the pacer let it go): its endpoint, templated as in
	// "PATCH /api/v1/users/{id}" (no ids, addresses, site path or query),
	// the HTTP status (0 when no answer came) and how long the exchange
	// took. It is called from many goroutines and must not block.
	Observe func(endpoint string, status int, took time.Duration)
}

// Client talks to one Zulip server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	botEmail  string
	apiKey    string
	userAgent string
	timeout   time.Duration
	http      *http.Client
	// longPoll is http without its own timeout: a long poll's deadline is
	// its context's (see Events).
	longPoll *http.Client
	pacer    *Pacer
	observe  func(endpoint string, status int, took time.Duration) // nil: nobody watches
	// after is the timer of the client's own waits (a 429 to a request
	// without credentials); time.After, replaced in tests.
	after func(time.Duration) <-chan time.Time
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	base, err := ParseSiteURL(cfg.SiteURL, cfg.AllowPlainHTTP)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.BotEmail) == "" {
		return nil, errors.New("zulip: the bot email is empty")
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("zulip: the bot API key is empty")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{Timeout: timeout}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = refuseRedirects
	longPoll := *hc
	longPoll.Timeout = 0
	ua := cfg.UserAgent
	if ua == "" {
		ua = "account-sync"
	}
	return &Client{
		base:      base,
		botEmail:  strings.TrimSpace(cfg.BotEmail),
		apiKey:    strings.TrimSpace(cfg.APIKey),
		userAgent: ua,
		timeout:   timeout,
		http:      hc,
		longPoll:  &longPoll,
		pacer:     NewPacer(),
		observe:   cfg.Observe,
		after:     time.After,
	}, nil
}

// Pacer is the client's rate-limit pacing, for the plugin to share across
// the cluster.
func (c *Client) Pacer() *Pacer { return c.pacer }

// ParseSiteURL checks that raw is an absolute https URL without query,
// fragment or credentials and returns it with any trailing slash removed.
// Plain http is accepted for a loopback host (localhost, 127.0.0.0/8, ::1),
// or for any host when allowPlainHTTP is true: the API key travels in every
// request.
func ParseSiteURL(raw string, allowPlainHTTP bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("zulip: the site URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("zulip: the site URL is not a URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("zulip: the site URL must start with https:// and name a host")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, errors.New("zulip: the site URL must not carry a query, fragment or credentials")
	}
	if u.Scheme == "http" && !allowPlainHTTP && !isLoopbackHost(u.Hostname()) {
		return nil, errors.New(`zulip: the site URL must start with https:// (plain http:// is allowed only for a loopback host, or with the setting "Allow plain HTTP to Zulip" on)`)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopbackHost reports whether host (without port or brackets) is
// localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newRequest builds a request for path (relative to /api/v1/, already
// escaped) with an optional form body.
func (c *Client) newRequest(ctx context.Context, method, path string, form url.Values, auth bool) (*http.Request, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	// The path is already escaped: keep it as given.
	target := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + "/api/v1/" + path
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("zulip: building %s %s: %w", method, redactPath("/api/v1/"+path), err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	// Zulip localises msg; ask for English so logs read the same everywhere.
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("User-Agent", c.userAgent)
	if auth {
		req.SetBasicAuth(c.botEmail, c.apiKey)
	}
	return req, nil
}

// do sends req with the client's deadline, reads at most maxBodyBytes of the
// answer and decodes a success into v. Failures come back as *APIError,
// *RateLimitError, *RedirectError or *UnavailableError.
func (c *Client) do(req *http.Request, v any) error {
	return c.doLimit(req, v, maxBodyBytes)
}

// doLimit is do with a bound of limit bytes on the answer. Requests are
// paced by Zulip's rate-limit headers; a 429 whose wait fits is waited out
// and the request sent again (Zulip refuses before doing anything).
func (c *Client) doLimit(req *http.Request, v any, limit int64) error {
	return c.doCall(req, v, callOpts{limit: limit, timeout: c.timeout})
}

// callOpts is how one request is sent.
type callOpts struct {
	limit   int64         // bound on the answer's body
	timeout time.Duration // deadline of each try
	// longPoll marks a request Zulip may hold for long (GET /events): paced
	// by Pacer.waitLongPoll, and sent without the http.Client's timeout.
	longPoll bool
}

// doCall is doLimit with every option.
func (c *Client) doCall(req *http.Request, v any, o callOpts) error {
	op := opOf(req)
	for tries := 1; ; tries++ {
		err := c.send(req, op, v, o)
		var rl *RateLimitError
		if !errors.As(err, &rl) || tries == maxRateLimitTries || !fits(req.Context(), rl.RetryAfter) || req.GetBody == nil && req.Body != nil {
			return err
		}
		if req.Header.Get("Authorization") == "" {
			// Not paced (see send): wait here.
			if !c.sleep(req.Context(), rl.RetryAfter) {
				return err
			}
		}
		if req.GetBody != nil {
			body, berr := req.GetBody()
			if berr != nil {
				return err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

// sleep waits d, or less if ctx ends first; it reports whether it waited
// all of d.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-c.after(d):
		return true
	}
}

// fits reports whether waiting d is short enough to wait within the call.
func fits(ctx context.Context, d time.Duration) bool {
	if d > MaxPaceWait {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Now().Add(d).Before(deadline)
}

// maxRateLimitTries bounds how often one request meets a 429.
const maxRateLimitTries = 5

// send makes one request, paced when it is the bot's: Zulip limits the
// bot's requests and, apart, those without credentials by address, with the
// same headers.
func (c *Client) send(req *http.Request, op string, v any, o callOpts) error {
	answered := func(int, http.Header, time.Duration) {}
	wait, hc := c.pacer.wait, c.http
	if o.longPoll {
		wait, hc = c.pacer.waitLongPoll, c.longPoll
	}
	if req.Header.Get("Authorization") != "" {
		var err error
		if answered, err = wait(req.Context(), op); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(req.Context(), o.timeout)
	defer cancel()
	status, started := 0, time.Now()
	if c.observe != nil {
		defer func() { c.observe(endpointOf(req), status, time.Since(started)) }()
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		answered(noAnswerStatus(err), nil, 0)
		return &UnavailableError{Op: op, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		answered(resp.StatusCode, resp.Header, 0)
		return redirectError(op, req.URL, resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.limit))
	if err != nil {
		answered(resp.StatusCode, resp.Header, 0)
		return &UnavailableError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("reading the answer: %w", stripURL(err))}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		answered(resp.StatusCode, resp.Header, 0)
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(body, v); err != nil {
			return &UnavailableError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("%w: %w", ErrMalformedResponse, err)}
		}
		return nil
	}
	// Redact before anything is cut to length: a proxy echoing the request
	// must not leave part of the credentials behind a cut.
	err = c.scrub(errorFromResponse(op, resp, []byte(c.redactSecret(string(body)))))
	var rl *RateLimitError
	if errors.As(err, &rl) {
		answered(resp.StatusCode, resp.Header, rl.RetryAfter)
	} else {
		answered(resp.StatusCode, resp.Header, 0)
	}
	return err
}

// refuseRedirects is the http.Client's CheckRedirect: the 3xx answer itself
// comes back, so credentials never travel to another address.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// scrub removes the API key from the server's text in err, in case a proxy
// echoes the request back.
func (c *Client) scrub(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Msg = c.redactSecret(ae.Msg)
	}
	return err
}

// redactSecret replaces the API key, the Basic credentials carrying it, and
// anything that looks like credentials after "Basic" or "Bearer", in s.
func (c *Client) redactSecret(s string) string {
	if c.apiKey != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(c.botEmail + ":" + c.apiKey))
		s = strings.ReplaceAll(s, basic, "[redacted]")
		s = strings.ReplaceAll(s, c.apiKey, "[redacted]")
	}
	return credentialsPattern.ReplaceAllString(s, "$1 [redacted]")
}

var credentialsPattern = regexp.MustCompile(`(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}`)

// opOf names a request for error texts: method and redacted path.
func opOf(req *http.Request) string {
	return req.Method + " " + redactPath(req.URL.Path)
}

// redactPath keeps the endpoint but not the address in it, for error texts:
// /users/{email} and /users/{id}; /users and /users/me stay as they are.
func redactPath(p string) string {
	const users = "/api/v1/users/"
	i := strings.Index(p, users)
	if i < 0 || len(p) == i+len(users) {
		return p
	}
	rest := p[i+len(users):]
	switch {
	case rest == "me":
		return p
	case isDigits(rest):
		return p[:i+len(users)] + "{id}"
	default:
		return p[:i+len(users)] + "{email}"
	}
}

// endpointOf names a request for Config.Observe: its method and its path
// from /api/v1/ on, ids and addresses templated as in redactPath; the
// site's own path, the query and the credentials are never part of it.
func endpointOf(req *http.Request) string {
	p := redactPath(req.URL.Path)
	if i := strings.Index(p, "/api/v1/"); i > 0 {
		p = p[i:]
	}
	return req.Method + " " + p
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// stripURL drops the URL from *url.Error so addresses in paths stay out of
// messages; the underlying cause is kept.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Budget is the pacer's Budget: what is left of the bot's rate limit.
func (c *Client) Budget() (remaining int, known bool) { return c.pacer.Budget() }

// Statuses a request that got no answer tells the pacer: notSent when it
// never left (no connection to Zulip), 0 when Zulip may have it and count
// it still (a timeout, a connection lost after sending).
const notSent = -1

func noAnswerStatus(err error) int {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return notSent
	}
	return 0
}
