package testbed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// mmServer is the bed's Mattermost server process.
type mmServer struct {
	workDir    string
	configPath string
	port       int
	siteURL    string
	logDir     string
	proc       *proc
}

// serverConfig is the initial config.json. The server fills in defaults for
// everything missing and writes the result back. Settings are given here,
// not through MM_* environment variables, because settings fixed by the
// environment cannot be changed later through the API.
func serverConfig(siteURL string, port int, dsn, workDir, logDir string, mail *MailSink) map[string]any {
	return map[string]any{
		"ServiceSettings": map[string]any{
			"SiteURL":                             siteURL,
			"ListenAddress":                       "127.0.0.1:" + strconv.Itoa(port),
			"EnableOAuthServiceProvider":          true,
			"EnableUserAccessTokens":              true,
			"EnableCommands":                      true,
			"EnableOnlyAdminIntegrations":         false,
			"EnablePostUsernameOverride":          true,
			"EnablePostIconOverride":              true,
			"EnableDeveloper":                     false,
			"EnableTesting":                       false,
			"EnableLocalMode":                     false,
			"EnableSecurityFixAlert":              false,
			"EnableLinkPreviews":                  false,
			"EnableGifPicker":                     false,
			"EnableOnboardingFlow":                false,
			"EnableInsecureOutgoingConnections":   false,
			"AllowedUntrustedInternalConnections": "127.0.0.1 localhost ::1",
			"EnableAPIUserDeletion":               true,
			"EnableEmailInvitations":              false,
		},
		"TeamSettings": map[string]any{
			"SiteName":           "Mattermost E2E",
			"EnableOpenServer":   true,
			"EnableUserCreation": true,
			"MaxUsersPerTeam":    1000,
		},
		"SqlSettings": map[string]any{
			"DriverName":   "postgres",
			"DataSource":   dsn,
			"MaxOpenConns": 50,
			"MaxIdleConns": 10,
		},
		"FileSettings": map[string]any{
			"DriverName": "local",
			"Directory":  filepath.Join(workDir, "data") + "/",
		},
		"PluginSettings": map[string]any{
			"Enable":                      true,
			"EnableUploads":               true,
			"Directory":                   filepath.Join(workDir, "plugins"),
			"ClientDirectory":             filepath.Join(workDir, "client", "plugins"),
			"EnableMarketplace":           false,
			"EnableRemoteMarketplace":     false,
			"AutomaticPrepackagedPlugins": false,
			"RequirePluginSignature":      false,
			"EnableHealthCheck":           true,
		},
		"LogSettings": map[string]any{
			"EnableConsole":          false,
			"ConsoleLevel":           "ERROR",
			"EnableFile":             true,
			"FileLevel":              "DEBUG",
			"FileJson":               false,
			"FileLocation":           logDir,
			"EnableDiagnostics":      false,
			"EnableSentry":           false,
			"EnableWebhookDebugging": false,
		},
		"NotificationLogSettings": map[string]any{
			"EnableConsole": false,
			"EnableFile":    true,
			"FileLevel":     "INFO",
			"FileJson":      false,
			"FileLocation":  logDir,
		},
		"EmailSettings": map[string]any{
			"EnableSignUpWithEmail":             true,
			"EnableSignInWithEmail":             true,
			"EnableSignInWithUsername":          true,
			"SendEmailNotifications":            true,
			"RequireEmailVerification":          false,
			"FeedbackName":                      "Mattermost E2E",
			"FeedbackEmail":                     "noreply@example.com",
			"ReplyToAddress":                    "noreply@example.com",
			"SMTPServer":                        mail.Host,
			"SMTPPort":                          strconv.Itoa(mail.Port),
			"ConnectionSecurity":                "",
			"EnableSMTPAuth":                    false,
			"SMTPUsername":                      "",
			"SMTPPassword":                      "",
			"SkipServerCertificateVerification": true,
			"SendPushNotifications":             false,
			"EnableEmailBatching":               false,
			"EnablePreviewModeBanner":           false,
			"SMTPServerTimeout":                 10,
		},
		"RateLimitSettings":    map[string]any{"Enable": false},
		"AnnouncementSettings": map[string]any{"AdminNoticesEnabled": false, "UserNoticesEnabled": false, "EnableBanner": false},
		"MetricsSettings":      map[string]any{"Enable": false},
		"ClusterSettings":      map[string]any{"Enable": false},
		"ImageProxySettings":   map[string]any{"Enable": false},
		"ExperimentalSettings": map[string]any{"RestrictSystemAdmin": false},
	}
}

func startMattermost(ctx context.Context, bin, modDir, root, logDir string, pg *Postgres, mail *MailSink, log io.Writer) (*mmServer, error) {
	s := &mmServer{workDir: filepath.Join(root, "mm"), logDir: logDir}
	if err := prepareWorkDir(s.workDir, modDir); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.port = port
	s.siteURL = "http://127.0.0.1:" + strconv.Itoa(port)
	cfg := serverConfig(s.siteURL, port, pg.DSN(), s.workDir, logDir, mail)
	if err := s.writeConfig(cfg); err != nil {
		return nil, err
	}
	if err := s.launch(ctx, bin, root, "mattermost", log); err != nil {
		return s, err
	}
	return s, nil
}

// prepareWorkDir makes a server's working directory: its plugin folders,
// links to the server module's i18n, templates and fonts, and a root.html
// in place of the web app.
func prepareWorkDir(workDir, modDir string) error {
	for _, d := range []string{
		workDir,
		filepath.Join(workDir, "client", "plugins"),
		filepath.Join(workDir, "plugins"),
		filepath.Join(workDir, "data"),
	} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, name := range []string{"i18n", "templates", "fonts"} {
		target := filepath.Join(modDir, name)
		if _, err := os.Stat(target); err != nil {
			return fmt.Errorf("server module folder: %w", err)
		}
		if err := os.Symlink(target, filepath.Join(workDir, name)); err != nil {
			return err
		}
	}
	// No web app; the CSP tag is the one the server rewrites at start-up
	// (without it, it logs an error).
	rootHTML := `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="script-src 'self' cdn.rudderlabs.com/ js.stripe.com/v3"><title>Mattermost E2E</title></head><body>e2e test bed: no web app</body></html>` + "\n"
	return os.WriteFile(filepath.Join(workDir, "client", "root.html"), []byte(rootHTML), 0o644)
}

// writeConfig writes the server's config.json (it may hold secrets: 0600).
func (s *mmServer) writeConfig(cfg map[string]any) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	s.configPath = filepath.Join(s.workDir, "config.json")
	return os.WriteFile(s.configPath, b, 0o600)
}

// launch starts the server with its config.json, its output appended to
// server.out in its log directory, and waits until its API answers. The
// process group is recorded in root (the bed's work directory) for the
// clean-up after a killed test binary. name labels the progress lines.
func (s *mmServer) launch(ctx context.Context, bin, root, name string, log io.Writer) error {
	out, err := os.OpenFile(filepath.Join(s.logDir, "server.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "server", "--config", s.configPath)
	cmd.Dir = s.workDir
	cmd.Env = filteredEnv()
	// SIGTERM: the server shuts down (and stops its plugins) gracefully.
	p, err := startProc(name, cmd, out, syscall.SIGTERM)
	if err != nil {
		out.Close()
		return err
	}
	s.proc = p
	if err := recordProcessGroup(root, p.pid()); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s starting on %s (pid %d)...\n", name, s.siteURL, p.pid())

	// Wait for the API to answer.
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited during start-up (%w):\n%s", name, p.waitErr, s.logTail(40))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.siteURL+"/api/v4/system/ping", nil)
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s/api/v4/system/ping within 90s:\n%s", name, s.siteURL, s.logTail(40))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTail is the end of mattermost.log, followed by the end of server.out
// (stdout/stderr: panics, errors before logging is configured) if not empty.
func (s *mmServer) logTail(n int) string {
	out := "--- mattermost.log (tail) ---\n" + tailFile(filepath.Join(s.logDir, "mattermost.log"), n)
	if st, err := os.Stat(filepath.Join(s.logDir, "server.out")); err == nil && st.Size() > 0 {
		out += "\n--- server.out (tail) ---\n" + tailFile(filepath.Join(s.logDir, "server.out"), n)
	}
	return out
}

func (s *mmServer) stop() error {
	if s == nil || s.proc == nil {
		return nil
	}
	return s.proc.stop(func() error {
		return s.proc.cmd.Process.Signal(syscall.SIGTERM)
	}, 30*time.Second)
}
