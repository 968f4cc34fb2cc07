// Command testplugin is a tiny Mattermost server plugin used by the test
// bed's own tests: it registers the slash command /e2e-hello, which answers
// "<Greeting>, <username>" (Greeting is a plugin setting, default "hello").
package main

import (
	"fmt"
	"sync"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// ID is the plugin id the test bed's tests use for this plugin.
const ID = "e2e-hello"

type configuration struct {
	Greeting string
}

type helloPlugin struct {
	plugin.MattermostPlugin

	mu  sync.RWMutex
	cfg configuration
}

func (p *helloPlugin) OnConfigurationChange() error {
	var c configuration
	if err := p.API.LoadPluginConfiguration(&c); err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	p.mu.Lock()
	p.cfg = c
	p.mu.Unlock()
	return nil
}

func (p *helloPlugin) OnActivate() error {
	return p.API.RegisterCommand(&model.Command{
		Trigger:          "e2e-hello",
		AutoComplete:     true,
		AutoCompleteDesc: "Say hello (test bed plugin)",
		DisplayName:      "E2E hello",
	})
}

func (p *helloPlugin) ExecuteCommand(_ *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	user, appErr := p.API.GetUser(args.UserId)
	if appErr != nil {
		return nil, appErr
	}
	p.mu.RLock()
	greeting := p.cfg.Greeting
	p.mu.RUnlock()
	if greeting == "" {
		greeting = "hello"
	}
	p.API.LogInfo("e2e-hello executed", "user", user.Username)
	return &model.CommandResponse{
		ResponseType: model.CommandResponseTypeEphemeral,
		Text:         fmt.Sprintf("%s, %s", greeting, user.Username),
	}, nil
}

func main() {
	plugin.ClientMain(&helloPlugin{})
}
