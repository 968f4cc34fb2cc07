package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// ConfigurationWillBeSaved refuses plugin settings that cannot work, with a
// message the System Console shows, instead of failing later for users
// (Mattermost 8.0+). Problems that fall back to a default are refused too,
// so what an admin saves is what runs.
func (p *Plugin) ConfigurationWillBeSaved(newCfg *model.Config) (*model.Config, error) { //nolint:unparam // the hook's signature: nil keeps the config as saved
	if newCfg == nil {
		return nil, nil
	}
	raw, ok := newCfg.PluginSettings.Plugins[pluginID]
	if !ok {
		return nil, nil
	}
	// Only a change of this plugin's settings is checked: an unrelated save
	// must not fail because of settings saved before this check existed.
	if p.API != nil {
		if cur := p.API.GetConfig(); cur != nil && sameJSON(cur.PluginSettings.Plugins[pluginID], raw) {
			return nil, nil
		}
	}
	if err := checkSavedSettings(raw); err != nil {
		// An *AppError reaches the System Console as it is; any other error
		// would be replaced by a generic "plugin hook" message.
		appErr := model.NewAppError("ConfigurationWillBeSaved", "account_sync.settings_invalid", nil, "", http.StatusBadRequest)
		appErr.Message = err.Error()
		appErr.SkipTranslation = true
		return nil, appErr
	}
	return nil, nil
}

// checkSavedSettings validates the plugin's part of a configuration about to
// be saved. The API key is never part of the message.
func checkSavedSettings(raw map[string]any) error {
	b, err := json.Marshal(raw)
	if err != nil {
		return errors.New("account sync: the settings could not be read")
	}
	c := new(configuration)
	// Settings of the wrong JSON type (a number for a text) are left to the
	// server's own checks; the rest are validated.
	_ = json.Unmarshal(b, c)
	c.normalize()
	var problems []string
	if err := c.validate(); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), "zulip sync is on but not set up: "))
	}
	problems = append(problems, c.problems()...)
	if len(problems) > 0 {
		return errors.New("Account Sync settings not saved: " + strings.Join(problems, "; ")) //nolint:staticcheck // shown as a sentence in the System Console
	}
	return nil
}

func sameJSON(a, b map[string]any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
