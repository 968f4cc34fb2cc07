package zulip

import "context"

// MinEmailChangeFeatureLevel is the first feature level (Zulip 10.0) whose
// PATCH /users/{id} accepts new_email.
const MinEmailChangeFeatureLevel = 313

// ServerSettings is the part of GET /server_settings the plugin uses.
type ServerSettings struct {
	Version      string `json:"zulip_version"`
	FeatureLevel int    `json:"zulip_feature_level"` // missing means 0
}

// ServerSettings asks the server for its version and feature level, every
// time: remembering them is the caller's business (account.ZulipFacts).
func (c *Client) ServerSettings(ctx context.Context) (ServerSettings, error) {
	req, err := c.newRequest(ctx, "GET", "server_settings", nil, false)
	if err != nil {
		return ServerSettings{}, err
	}
	var s ServerSettings
	if err := c.do(req, &s); err != nil {
		return ServerSettings{}, err
	}
	return s, nil
}
