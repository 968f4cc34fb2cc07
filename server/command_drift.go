package main

import (
	"context"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// commandDrift runs `/account drift`: where the two systems disagree, as
// counts per kind and the first rows, with where the full report is. It
// changes nothing.
func (p *Plugin) commandDrift(c commandCall) string {
	rep, f := p.service().Drift(context.Background(), c.userID, c.sessionID)
	if f != nil {
		return reply.Refusal(f, false)
	}
	return reply.Drift(rep, p.apiURL(driftCSVPath), p.apiURL(driftPath))
}

// The drift report's routes under the plugin's API.
const (
	driftPath    = "/drift"
	driftCSVPath = "/drift.csv"
)

// apiURL is the address of one of the plugin's routes: on the server's
// Site URL when it is set, else from the server's root.
func (p *Plugin) apiURL(path string) string {
	site := ""
	if cfg := p.client.Configuration.GetConfig(); cfg != nil && cfg.ServiceSettings.SiteURL != nil {
		site = strings.TrimRight(*cfg.ServiceSettings.SiteURL, "/")
	}
	return site + "/plugins/" + pluginID + "/api/v1" + path
}
