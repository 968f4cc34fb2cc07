package main

import (
	"encoding/json"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// rateLimitEventID names the cluster event that tells the other nodes the
// bot's Zulip budget is used up: Zulip counts the requests of all nodes.
const rateLimitEventID = "zulip_rate_limit"

// shareRateLimit makes the client's pacer tell the other nodes when the
// budget runs out.
func (p *Plugin) shareRateLimit(zc *zulip.Client) {
	zc.Pacer().OnExhausted = func(s zulip.RateState) {
		data, err := json.Marshal(s)
		if err != nil {
			return
		}
		err = p.client.Cluster.PublishPluginEvent(model.PluginClusterEvent{Id: rateLimitEventID, Data: data},
			model.PluginClusterEventSendOptions{SendType: model.PluginClusterEventSendTypeBestEffort})
		if err != nil {
			p.client.Log.Warn("account sync: could not tell the other nodes that Zulip's rate limit is reached", "error", err.Error())
		}
	}
}

// OnPluginClusterEvent takes in what another node learnt about the bot's
// Zulip budget.
func (p *Plugin) OnPluginClusterEvent(_ *plugin.Context, ev model.PluginClusterEvent) {
	if ev.Id != rateLimitEventID {
		return
	}
	var s zulip.RateState
	if err := json.Unmarshal(ev.Data, &s); err != nil {
		return
	}
	if zc, _ := p.getZulip(); zc != nil {
		zc.Pacer().Observe(s)
	}
}
