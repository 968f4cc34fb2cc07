// Package zulip is a small client for the parts of Zulip's REST API that
// Account Sync needs: reading server settings, looking users up by email and
// changing a user's email as an administrator bot. It knows nothing of
// Mattermost.
package zulip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// maxBodyBytes bounds every response body the client reads.
	maxBodyBytes = 1 << 20
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
	// HTTPClient is used when set (tests); otherwise one with Timeout.
	HTTPClient *http.Client
	// SettingsTTL is how long the server's feature level is cached; 10 minutes when zero.
	SettingsTTL time.Duration
}

// Client talks to one Zulip server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	botEmail  string
	apiKey    string
	userAgent string
	timeout   time.Duration
	http      *http.Client
	settings  *settingsCache
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	base, err := ParseSiteURL(cfg.SiteURL)
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
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "account-sync"
	}
	ttl := cfg.SettingsTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	return &Client{
		base:      base,
		botEmail:  strings.TrimSpace(cfg.BotEmail),
		apiKey:    strings.TrimSpace(cfg.APIKey),
		userAgent: ua,
		timeout:   timeout,
		http:      hc,
		settings:  &settingsCache{ttl: ttl},
	}, nil
}

// ParseSiteURL checks that raw is an absolute http(s) URL without query or
// fragment and returns it with any trailing slash removed.
func ParseSiteURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("zulip: the site URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("zulip: the site URL is not a URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("zulip: the site URL must start with https:// (or http://) and name a host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("zulip: the site URL must not carry a query, fragment or credentials")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
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
// *RateLimitError or *UnavailableError.
func (c *Client) do(req *http.Request, v any) error {
	ctx, cancel := context.WithTimeout(req.Context(), c.timeout)
	defer cancel()
	req = req.WithContext(ctx)

	op := req.Method + " " + redactPath(req.URL.Path)
	resp, err := c.http.Do(req)
	if err != nil {
		return &UnavailableError{Op: op, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return &UnavailableError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("reading the answer: %w", stripURL(err))}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(body, v); err != nil {
			return &UnavailableError{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("%w: %w", ErrMalformedResponse, err)}
		}
		return nil
	}
	return errorFromResponse(op, resp, body)
}

// redactPath keeps the endpoint but not the address in it, for error texts.
func redactPath(p string) string {
	const users = "/api/v1/users/"
	if i := strings.Index(p, users); i >= 0 && len(p) > i+len(users) {
		rest := p[i+len(users):]
		if rest == "me" {
			return p
		}
		return p[:i+len(users)] + "{email}"
	}
	return p
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
