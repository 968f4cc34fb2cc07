package testbed

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// NewClient returns a client for the bed's server with no session.
func (b *Bed) NewClient() *model.Client4 { return model.NewAPIv4Client(b.SiteURL) }

// Login returns a new client logged in with loginID (username or email) and
// password.
func (b *Bed) Login(ctx context.Context, loginID, password string) (*model.Client4, *model.User, error) {
	c := b.NewClient()
	u, _, err := c.Login(ctx, loginID, password)
	if err != nil {
		return nil, nil, fmt.Errorf("login as %q: %w", loginID, err)
	}
	return c, u, nil
}

// Password returns the password the bed generated for a user it created
// (the admin included), "" if unknown.
func (b *Bed) Password(username string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.passwords[username]
}

func (b *Bed) setPassword(username, pw string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.passwords[username] = pw
}

// CreateUser creates a user with a generated password (see Password), its
// email verified and no welcome mail, adds it to Team, and returns it with
// a client logged in as that user (its own session token).
func (b *Bed) CreateUser(ctx context.Context, username, email string) (*model.User, *model.Client4, error) {
	pw := newPassword()
	u, _, err := b.Admin.CreateUser(ctx, &model.User{
		Username:            username,
		Email:               email,
		Password:            pw,
		EmailVerified:       true,
		DisableWelcomeEmail: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create user %q: %w", username, err)
	}
	b.setPassword(u.Username, pw)
	if !u.EmailVerified {
		if u, _, err = b.Admin.VerifyUserEmailWithoutToken(ctx, u.Id); err != nil {
			return nil, nil, fmt.Errorf("verify email of %q: %w", username, err)
		}
	}
	if _, _, err := b.Admin.AddTeamMember(ctx, b.Team.Id, u.Id); err != nil {
		return nil, nil, fmt.Errorf("add %q to team %q: %w", username, b.Team.Name, err)
	}
	c, me, err := b.Login(ctx, u.Username, pw)
	if err != nil {
		return nil, nil, err
	}
	return me, c, nil
}

// Execute runs a slash command (e.g. "/account-sync help") in Channel as the
// client's user and returns the command's own response.
func (b *Bed) Execute(ctx context.Context, c *model.Client4, command string) (*model.CommandResponse, error) {
	resp, _, err := c.ExecuteCommandWithTeam(ctx, b.Channel.Id, b.Team.Id, command)
	if err != nil {
		return nil, fmt.Errorf("execute %q: %w", command, err)
	}
	return resp, nil
}

// InstallPlugin uploads a plugin bundle (replacing an installed one),
// enables it and waits until the server reports it running.
func (b *Bed) InstallPlugin(ctx context.Context, bundlePath, pluginID string) error {
	// Check the id before uploading: an upload replaces the installed plugin.
	if id, err := BundlePluginID(bundlePath); err != nil {
		return err
	} else if id != pluginID {
		return fmt.Errorf("bundle %s holds plugin %q, not %q", bundlePath, id, pluginID)
	}
	f, err := os.Open(bundlePath)
	if err != nil {
		return err
	}
	defer f.Close()
	manifest, _, err := b.Admin.UploadPluginForced(ctx, f)
	if err != nil {
		return fmt.Errorf("upload plugin %s: %w\n%s", bundlePath, err, b.ServerLogTail(30))
	}
	if manifest.Id != pluginID {
		return fmt.Errorf("bundle %s holds plugin %q, not %q", bundlePath, manifest.Id, pluginID)
	}
	if _, err := b.Admin.EnablePlugin(ctx, pluginID); err != nil {
		return fmt.Errorf("enable plugin %s: %w\n%s", pluginID, err, b.ServerLogTail(40))
	}
	return b.WaitPluginRunning(ctx, pluginID, 60*time.Second)
}

// BundlePluginID reads the id from the plugin.json at the top of a bundle
// (<dir>/plugin.json in a tar.gz).
func BundlePluginID(bundlePath string) (string, error) {
	f, err := os.Open(bundlePath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("bundle %s: %w", bundlePath, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("bundle %s has no <dir>/plugin.json", bundlePath)
		}
		if err != nil {
			return "", fmt.Errorf("bundle %s: %w", bundlePath, err)
		}
		name := strings.TrimPrefix(path.Clean(h.Name), "./")
		if dir, file := path.Split(name); file != "plugin.json" || dir == "" || strings.Count(dir, "/") != 1 {
			continue
		}
		var m struct {
			ID string `json:"id"`
		}
		if err := json.NewDecoder(tr).Decode(&m); err != nil {
			return "", fmt.Errorf("bundle %s: %s: %w", bundlePath, h.Name, err)
		}
		return m.ID, nil
	}
}

// adminAPI is a system admin's session on one server of the bed, and the
// tail of that server's log for error messages.
type adminAPI struct {
	c       *model.Client4
	logTail func(n int) string
}

func (b *Bed) api() adminAPI { return adminAPI{c: b.Admin, logTail: b.ServerLogTail} }

// WaitPluginRunning polls the plugin statuses until pluginID is running.
func (b *Bed) WaitPluginRunning(ctx context.Context, pluginID string, timeout time.Duration) error {
	return b.api().waitPluginRunning(ctx, pluginID, timeout)
}

func (a adminAPI) waitPluginRunning(ctx context.Context, pluginID string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		statuses, _, err := a.c.GetPluginStatuses(ctx)
		if err != nil {
			last = err.Error()
		} else {
			last = "not listed"
			for _, st := range statuses {
				if st.PluginId != pluginID {
					continue
				}
				if st.State == model.PluginStateRunning {
					return nil
				}
				last = fmt.Sprintf("state %s (error %q)", pluginStateName(st.State), st.Error)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("plugin %s not running after %s: %s\n%s", pluginID, timeout, last, a.logTail(40))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("plugin %s not running (%s): %w\n%s", pluginID, last, ctx.Err(), a.logTail(40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func pluginStateName(s int) string {
	switch s {
	case model.PluginStateNotRunning:
		return "not running"
	case model.PluginStateStarting:
		return "starting"
	case model.PluginStateRunning:
		return "running"
	case model.PluginStateFailedToStart:
		return "failed to start"
	case model.PluginStateFailedToStayRunning:
		return "failed to stay running"
	case model.PluginStateStopping:
		return "stopping"
	}
	return fmt.Sprintf("%d", s)
}

// RawConfig returns the server's configuration as JSON objects, exactly as
// GET /api/v4/config gives it (secrets masked).
func (b *Bed) RawConfig(ctx context.Context) (map[string]any, error) {
	return b.api().rawConfig(ctx)
}

func (a adminAPI) rawConfig(ctx context.Context) (map[string]any, error) {
	resp, err := a.c.DoAPIGet(ctx, "/config", "")
	if err != nil {
		return nil, fmt.Errorf("get config: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	return raw, nil
}

// PutRawConfig saves a whole configuration with PUT /api/v4/config. Fields
// missing or null take their default values.
func (b *Bed) PutRawConfig(ctx context.Context, raw map[string]any) error {
	return b.api().putRawConfig(ctx, raw)
}

func (a adminAPI) putRawConfig(ctx context.Context, raw map[string]any) error {
	body, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	resp, err := a.c.DoAPIPut(ctx, "/config", string(body))
	if err != nil {
		return fmt.Errorf("put config: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// UpdateConfig reads the configuration, lets mutate change it and saves it.
//
// The client library is newer than the server, so the change is applied as
// a difference: only the fields mutate changed are written into the
// server's own JSON, and fields the client's model.Config does not know are
// kept as they are.
func (b *Bed) UpdateConfig(ctx context.Context, mutate func(*model.Config)) error {
	return b.api().updateConfig(ctx, mutate)
}

func (a adminAPI) updateConfig(ctx context.Context, mutate func(*model.Config)) error {
	raw, err := a.rawConfig(ctx)
	if err != nil {
		return err
	}
	rawBytes, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var cfg model.Config
	if err := json.Unmarshal(rawBytes, &cfg); err != nil {
		return fmt.Errorf("decode config into model.Config: %w", err)
	}
	before, err := toJSONMap(&cfg)
	if err != nil {
		return err
	}
	mutate(&cfg)
	after, err := toJSONMap(&cfg)
	if err != nil {
		return err
	}
	applyDiff(raw, before, after)
	return a.putRawConfig(ctx, raw)
}

// SetPluginSettings sets keys of PluginSettings.Plugins[pluginID] (keys are
// lower-cased as the server stores them). Other keys already set are kept;
// a nil value removes its key.
func (b *Bed) SetPluginSettings(ctx context.Context, pluginID string, settings map[string]any) error {
	return b.api().setPluginSettings(ctx, pluginID, settings)
}

func (a adminAPI) setPluginSettings(ctx context.Context, pluginID string, settings map[string]any) error {
	raw, err := a.rawConfig(ctx)
	if err != nil {
		return err
	}
	ps, _ := raw["PluginSettings"].(map[string]any)
	if ps == nil {
		ps = map[string]any{}
		raw["PluginSettings"] = ps
	}
	plugins, _ := ps["Plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
		ps["Plugins"] = plugins
	}
	id := strings.ToLower(pluginID)
	cur, _ := plugins[id].(map[string]any)
	if cur == nil {
		cur = map[string]any{}
	}
	for k, v := range settings {
		k = strings.ToLower(k)
		if v == nil {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	plugins[id] = cur
	return a.putRawConfig(ctx, raw)
}

// PluginSettings returns PluginSettings.Plugins[pluginID] as the server has
// it (secret settings masked).
func (b *Bed) PluginSettings(ctx context.Context, pluginID string) (map[string]any, error) {
	return b.api().pluginSettings(ctx, pluginID)
}

func (a adminAPI) pluginSettings(ctx context.Context, pluginID string) (map[string]any, error) {
	raw, err := a.rawConfig(ctx)
	if err != nil {
		return nil, err
	}
	ps, _ := raw["PluginSettings"].(map[string]any)
	plugins, _ := ps["Plugins"].(map[string]any)
	cur, _ := plugins[strings.ToLower(pluginID)].(map[string]any)
	return cur, nil
}

func toJSONMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// applyDiff writes into dst what changed from before to after: changed
// values are set, removed keys deleted, nested objects handled key by key.
func applyDiff(dst, before, after map[string]any) {
	for k := range before {
		if _, ok := after[k]; !ok {
			delete(dst, k)
		}
	}
	for k, av := range after {
		bv, inBefore := before[k]
		if inBefore && reflect.DeepEqual(av, bv) {
			continue
		}
		am, aIsMap := av.(map[string]any)
		bm, bIsMap := bv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		if aIsMap && bIsMap && dIsMap {
			applyDiff(dm, bm, am)
			continue
		}
		dst[k] = av
	}
}
