package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// SecondServer is one more Mattermost server process on the bed's database
// and file store, as a second node of a deployment without a cluster
// licence: no cluster messages between the two, each with its own
// config.json, its own port and its own local plugin folders. It installs
// the plugins the first server has from the shared file store at start-up
// and runs the enabled ones.
//
// Settings are not shared: a change saved through one server's API reaches
// only that server (SetPluginSettings on both to change a plugin's).
// Sessions live in the database, so a session token of one server works on
// the other.
type SecondServer struct {
	N          int            // 2 for the first one started, then 3...
	SiteURL    string         // http://127.0.0.1:PORT
	Admin      *model.Client4 // the bed's admin, logged in on this server
	ConfigPath string         // its config.json (the server rewrites it)
	LogDir     string         // <bed LogDir>/server<N>: mattermost.log, notifications.log, server.out

	bed *Bed
	mm  *mmServer

	stopOnce sync.Once
	stopErr  error
}

// StartSecondServer starts another Mattermost server against the bed's
// PostgreSQL and file store, on a free port, with a copy of the first
// server's config.json as it is now (settings, plugin states and plugin
// settings included). It returns once the server answers and the admin is
// logged in on it; its plugins may still be starting (WaitPluginRunning).
// Stop it with Stop; Bed.Stop stops it too. It may be called more than once.
func (b *Bed) StartSecondServer(ctx context.Context) (_ *SecondServer, err error) {
	if b.mm == nil || b.mm.proc == nil || b.modDir == "" {
		return nil, errors.New("start a second server: the bed's first server is not running")
	}
	b.mu.Lock()
	if b.extrasClosed {
		b.mu.Unlock()
		return nil, errors.New("start a second server: the bed is stopped")
	}
	if b.serverCount == 0 {
		b.serverCount = 1
	}
	b.serverCount++
	n := b.serverCount
	b.mu.Unlock()

	name := "server" + strconv.Itoa(n)
	s := &SecondServer{
		N:      n,
		LogDir: filepath.Join(b.LogDir, name),
		bed:    b,
		mm:     &mmServer{workDir: filepath.Join(b.WorkDir, "mm"+strconv.Itoa(n)), logDir: filepath.Join(b.LogDir, name)},
	}
	defer func() {
		if err != nil {
			if serr := s.Stop(); serr != nil {
				b.logf("test bed: stop of mattermost %s after a failed start: %v\n", name, serr)
			}
			err = fmt.Errorf("start a second server: %w (logs in %s)", err, s.LogDir)
		}
	}()
	if err := os.MkdirAll(s.LogDir, 0o755); err != nil {
		return nil, err
	}
	if err := prepareWorkDir(s.mm.workDir, b.modDir); err != nil {
		return nil, err
	}
	cfg, err := readJSONConfig(b.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("reading the first server's config: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.mm.port = port
	s.mm.siteURL = "http://127.0.0.1:" + strconv.Itoa(port)
	s.SiteURL = s.mm.siteURL
	// What is the node's own; the database, the file store and every other
	// setting stay the first server's.
	setIn(cfg, "ServiceSettings", "SiteURL", s.SiteURL)
	setIn(cfg, "ServiceSettings", "ListenAddress", "127.0.0.1:"+strconv.Itoa(port))
	setIn(cfg, "ServiceSettings", "LocalModeSocketLocation", filepath.Join(s.mm.workDir, "local.socket"))
	setIn(cfg, "PluginSettings", "Directory", filepath.Join(s.mm.workDir, "plugins"))
	setIn(cfg, "PluginSettings", "ClientDirectory", filepath.Join(s.mm.workDir, "client", "plugins"))
	setIn(cfg, "LogSettings", "FileLocation", s.LogDir)
	setIn(cfg, "NotificationLogSettings", "FileLocation", s.LogDir)
	if err := s.mm.writeConfig(cfg); err != nil {
		return nil, err
	}
	s.ConfigPath = s.mm.configPath

	// Known to Bed.Stop before the process exists.
	b.mu.Lock()
	if b.extrasClosed {
		b.mu.Unlock()
		return nil, errors.New("the bed is stopped")
	}
	b.extras = append(b.extras, s)
	b.mu.Unlock()

	started := time.Now()
	if err := s.mm.launch(ctx, b.ServerBinaryPath, b.WorkDir, "mattermost "+name, b.log); err != nil {
		return nil, err
	}
	c := model.NewAPIv4Client(s.SiteURL)
	if _, _, err := c.Login(ctx, b.AdminUser.Username, b.AdminPassword); err != nil {
		return nil, fmt.Errorf("admin login on %s: %w", s.SiteURL, err)
	}
	s.Admin = c
	b.logf("mattermost %s up on %s in %s\n", name, s.SiteURL, time.Since(started).Round(100*time.Millisecond))
	return s, nil
}

// readJSONConfig reads a config.json. The server rewrites it when settings
// are saved; a read in the middle of a write is tried again.
func readJSONConfig(path string) (map[string]any, error) {
	var lastErr error
	for range 20 {
		b, err := os.ReadFile(path)
		if err == nil {
			var cfg map[string]any
			if err = json.Unmarshal(b, &cfg); err == nil {
				return cfg, nil
			}
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return nil, lastErr
}

// setIn sets cfg[section][key], making the section if missing.
func setIn(cfg map[string]any, section, key string, v any) {
	sec, _ := cfg[section].(map[string]any)
	if sec == nil {
		sec = map[string]any{}
		cfg[section] = sec
	}
	sec[key] = v
}

// Stop stops the server (SIGTERM: its plugins are deactivated) and removes
// its work directory; its logs are kept. Idempotent.
func (s *SecondServer) Stop() error {
	if s == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		var errs []error
		if err := s.mm.stop(); err != nil {
			errs = append(errs, err)
		}
		if s.mm.workDir != "" {
			if err := os.RemoveAll(s.mm.workDir); err != nil {
				errs = append(errs, err)
			}
		}
		b := s.bed
		b.mu.Lock()
		for i, x := range b.extras {
			if x == s {
				b.extras = append(b.extras[:i:i], b.extras[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
		s.stopErr = errors.Join(errs...)
		if s.stopErr == nil {
			b.logf("mattermost server%d stopped\n", s.N)
		}
	})
	return s.stopErr
}

// Pid is the pid of the server process (0 if none).
func (s *SecondServer) Pid() int {
	if s.mm == nil || s.mm.proc == nil {
		return 0
	}
	return s.mm.proc.pid()
}

// LogTail returns the last n lines of this server's mattermost.log,
// followed by the end of its server.out when not empty.
func (s *SecondServer) LogTail(n int) string { return s.mm.logTail(n) }

func (s *SecondServer) api() adminAPI { return adminAPI{c: s.Admin, logTail: s.LogTail} }

// WaitPluginRunning polls this server's plugin statuses until pluginID is
// running on it.
func (s *SecondServer) WaitPluginRunning(ctx context.Context, pluginID string, timeout time.Duration) error {
	return s.api().waitPluginRunning(ctx, pluginID, timeout)
}

// RawConfig is Bed.RawConfig on this server.
func (s *SecondServer) RawConfig(ctx context.Context) (map[string]any, error) {
	return s.api().rawConfig(ctx)
}

// UpdateConfig is Bed.UpdateConfig on this server.
func (s *SecondServer) UpdateConfig(ctx context.Context, mutate func(*model.Config)) error {
	return s.api().updateConfig(ctx, mutate)
}

// SetPluginSettings is Bed.SetPluginSettings on this server.
func (s *SecondServer) SetPluginSettings(ctx context.Context, pluginID string, settings map[string]any) error {
	return s.api().setPluginSettings(ctx, pluginID, settings)
}

// PluginSettings is Bed.PluginSettings on this server.
func (s *SecondServer) PluginSettings(ctx context.Context, pluginID string) (map[string]any, error) {
	return s.api().pluginSettings(ctx, pluginID)
}
