package zulip

import (
	"context"
	"sync"
	"time"
)

// MinEmailChangeFeatureLevel is the first feature level (Zulip 10.0) whose
// PATCH /users/{email} accepts new_email.
const MinEmailChangeFeatureLevel = 313

// ServerSettings is the part of GET /server_settings the plugin uses.
type ServerSettings struct {
	Version      string `json:"zulip_version"`
	FeatureLevel int    `json:"zulip_feature_level"` // missing means 0
}

type settingsCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	value   ServerSettings
	fetched time.Time
}

// ServerSettings returns the server's version and feature level, cached for
// the configured TTL. Failures are not cached.
func (c *Client) ServerSettings(ctx context.Context) (ServerSettings, error) {
	c.settings.mu.Lock()
	if !c.settings.fetched.IsZero() && time.Since(c.settings.fetched) < c.settings.ttl {
		v := c.settings.value
		c.settings.mu.Unlock()
		return v, nil
	}
	c.settings.mu.Unlock()

	req, err := c.newRequest(ctx, "GET", "server_settings", nil, false)
	if err != nil {
		return ServerSettings{}, err
	}
	var s ServerSettings
	if err := c.do(req, &s); err != nil {
		return ServerSettings{}, err
	}

	c.settings.mu.Lock()
	c.settings.value, c.settings.fetched = s, time.Now()
	c.settings.mu.Unlock()
	return s, nil
}
