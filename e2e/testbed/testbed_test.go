package testbed

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

func TestMain(m *testing.M) {
	code := m.Run()
	// A test that failed before its deferred Stop still must not leave
	// processes behind.
	if err := StopAll(); err != nil {
		os.Stderr.WriteString("testbed: StopAll: " + err.Error() + "\n")
	}
	os.Exit(code)
}

// tlog sends progress lines to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real PostgreSQL and Mattermost server (and may build the server for minutes); skipped with -short")
	}
	for _, tool := range []string{"initdb", "postgres", "pg_ctl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: the test bed needs PostgreSQL and Go", tool)
		}
	}
}

func TestBed(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()

	start := time.Now()
	bed, err := Start(ctx, Options{Log: tlog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bed started in %s; logs in %s", time.Since(start).Round(100*time.Millisecond), bed.LogDir)
	stopped := false
	defer func() {
		if !stopped {
			_ = bed.Stop()
		}
	}()
	groups := bed.ProcessGroups()
	if len(groups) != 2 {
		t.Fatalf("process groups = %v, want mattermost and postgres", groups)
	}

	if !bed.AdminUser.IsSystemAdmin() || bed.Team == nil || bed.Channel == nil || bed.Channel.Name != "town-square" || bed.Channel.TeamId != bed.Team.Id {
		t.Fatalf("bootstrap: admin %+v team %+v channel %+v", bed.AdminUser, bed.Team, bed.Channel)
	}

	var alice *model.User
	var aliceClient *model.Client4
	t.Run("user", func(t *testing.T) {
		alice, aliceClient, err = bed.CreateUser(ctx, "alice", "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !alice.EmailVerified {
			t.Errorf("alice's email not verified")
		}
		me, _, err := aliceClient.GetMe(ctx, "")
		if err != nil || me.Id != alice.Id {
			t.Fatalf("GetMe with alice's session: %v %+v", err, me)
		}
		if aliceClient.AuthToken == bed.Admin.AuthToken || aliceClient.AuthToken == "" {
			t.Errorf("alice's client does not have its own session token")
		}
		// A fresh login with the generated password works.
		_, u, err := bed.Login(ctx, "alice@example.com", bed.Password("alice"))
		if err != nil || u.Id != alice.Id {
			t.Fatalf("fresh login: %v", err)
		}
		if _, _, err := bed.Admin.GetTeamMember(ctx, bed.Team.Id, alice.Id, ""); err != nil {
			t.Errorf("alice not in team: %v", err)
		}
	})
	if alice == nil {
		t.FailNow()
	}

	t.Run("mail", func(t *testing.T) {
		// A password reset mail, asked for without a session.
		if _, err := bed.NewClient().SendPasswordResetEmail(ctx, "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		m, err := bed.Mail.WaitFor(wctx, func(m Mail) bool { return m.SentTo("alice@example.com") })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("reset mail: from %s subject %q", m.From, m.Subject)
		link := bed.SiteURL + "/reset_password_complete?token="
		if !strings.Contains(m.Body, link) {
			t.Errorf("reset mail body lacks %q (quoted-printable not undone?):\n%s", link, m.Body)
		}
		if m.Subject == "" || !strings.Contains(m.HTML, "<") {
			t.Errorf("subject %q, html %d bytes", m.Subject, len(m.HTML))
		}

		// The admin's "test email" button.
		n := bed.Mail.Count()
		raw, err := bed.RawConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(raw)
		resp, err := bed.Admin.DoAPIPost(ctx, "/email/test", string(body))
		if err != nil {
			t.Fatalf("email test: %v", err)
		}
		resp.Body.Close()
		m, err = bed.Mail.WaitForAfter(wctx, n, func(m Mail) bool { return m.SentTo(bed.AdminUser.Email) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("test mail: subject %q", m.Subject)
		data, err := os.ReadFile(filepath.Join(bed.LogDir, "mail.log"))
		if err != nil || !strings.Contains(string(data), "alice@example.com") {
			t.Errorf("mail.log: %v", err)
		}
	})

	t.Run("plugin", func(t *testing.T) {
		bundle := buildTestPluginBundle(t, ctx)
		if err := bed.InstallPlugin(ctx, bundle, "e2e-hello"); err != nil {
			t.Fatal(err)
		}
		resp, err := bed.Execute(ctx, aliceClient, "/e2e-hello")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text != "hello, alice" {
			t.Errorf("response %q, want %q", resp.Text, "hello, alice")
		}
		if err := bed.SetPluginSettings(ctx, "e2e-hello", map[string]any{"Greeting": "bonjour"}); err != nil {
			t.Fatal(err)
		}
		settings, err := bed.PluginSettings(ctx, "e2e-hello")
		if err != nil || settings["greeting"] != "bonjour" {
			t.Fatalf("plugin settings %v, %v", settings, err)
		}
		resp, err = bed.Execute(ctx, aliceClient, "/e2e-hello")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text != "bonjour, alice" {
			t.Errorf("after SetPluginSettings: response %q, want %q", resp.Text, "bonjour, alice")
		}
		// Installing again (force) replaces it and it comes back.
		if err := bed.InstallPlugin(ctx, bundle, "e2e-hello"); err != nil {
			t.Fatal(err)
		}
		if err := bed.InstallPlugin(ctx, bundle, "wrong-id"); err == nil {
			t.Errorf("InstallPlugin with a wrong id succeeded")
		}
		if !strings.Contains(bed.ServerLogTail(2000), "e2e-hello executed") {
			t.Errorf("plugin log line not in the server log tail")
		}
	})

	// A second server on the same database and file store: it installs the
	// plugin from the file store, takes the first server's settings and
	// sessions, and stops without a trace but its logs.
	t.Run("second server", func(t *testing.T) {
		s2, err := bed.StartSecondServer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s2.Stop() }()
		if s2.SiteURL == bed.SiteURL || s2.N != 2 {
			t.Errorf("second server %d at %s, the first at %s", s2.N, s2.SiteURL, bed.SiteURL)
		}
		if groups := bed.ProcessGroups(); len(groups) != 3 || groups[2] != s2.Pid() {
			t.Errorf("process groups with a second server = %v, want 3 ending with %d", groups, s2.Pid())
		}
		if err := s2.WaitPluginRunning(ctx, "e2e-hello", 60*time.Second); err != nil {
			t.Fatal(err)
		}
		c2 := model.NewAPIv4Client(s2.SiteURL)
		c2.SetToken(aliceClient.AuthToken) // the session of the first server
		resp, _, err := c2.ExecuteCommandWithTeam(ctx, bed.Channel.Id, bed.Team.Id, "/e2e-hello")
		if err != nil || resp.Text != "bonjour, alice" {
			t.Errorf("/e2e-hello on the second server: %v %+v, want %q", err, resp, "bonjour, alice")
		}
		if s, err := s2.PluginSettings(ctx, "e2e-hello"); err != nil || s["greeting"] != "bonjour" {
			t.Errorf("plugin settings on the second server: %v %v", s, err)
		}
		work, pid := filepath.Dir(s2.ConfigPath), s2.Pid()
		tree := descendants(pid)
		if len(tree) < 2 { // the server and its plugin
			t.Errorf("second server processes: %v", tree)
		}
		if err := s2.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		for _, p := range tree {
			if p.alive() {
				t.Errorf("process %d of the second server still alive", p.pid)
			}
		}
		if _, err := os.Stat(work); !os.IsNotExist(err) {
			t.Errorf("the second server's work dir %s not removed: %v", work, err)
		}
		if _, err := os.Stat(filepath.Join(s2.LogDir, "mattermost.log")); err != nil {
			t.Errorf("the second server's log: %v", err)
		}
		if groups := bed.ProcessGroups(); len(groups) != 2 {
			t.Errorf("process groups after the second server stopped = %v", groups)
		}
		if _, _, err := aliceClient.GetMe(ctx, ""); err != nil {
			t.Errorf("the first server after the second stopped: %v", err)
		}
	})

	t.Run("config", func(t *testing.T) {
		err := bed.UpdateConfig(ctx, func(c *model.Config) {
			c.TeamSettings.SiteName = model.NewPointer("Renamed E2E")
			c.ServiceSettings.EnableCustomEmoji = model.NewPointer(true)
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := bed.RawConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		team := raw["TeamSettings"].(map[string]any)
		email := raw["EmailSettings"].(map[string]any)
		if team["SiteName"] != "Renamed E2E" {
			t.Errorf("SiteName = %v", team["SiteName"])
		}
		if email["SMTPPort"] != strings.Split(bed.Mail.Addr, ":")[1] {
			t.Errorf("SMTPPort changed to %v", email["SMTPPort"])
		}
		if s, _ := bed.PluginSettings(ctx, "e2e-hello"); s["greeting"] != "bonjour" {
			t.Errorf("plugin settings lost by UpdateConfig: %v", s)
		}
		// Through the typed client too.
		cfg, _, err := bed.Admin.GetConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if *cfg.TeamSettings.SiteName != "Renamed E2E" || !*cfg.ServiceSettings.EnableCustomEmoji {
			t.Errorf("typed config: site name %q", *cfg.TeamSettings.SiteName)
		}
	})

	// Stop: nothing left.
	work := bed.WorkDir
	var tree []procID
	for _, g := range groups {
		tree = append(tree, descendants(g)...)
	}
	if len(tree) < 4 { // server, plugin, postmaster, backends
		t.Errorf("bed processes before Stop: %v", tree)
	}
	t.Logf("%d bed processes before Stop: %v", len(tree), bed.Processes())
	if err := bed.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	stopped = true
	for _, g := range groups {
		if left := groupMembers(g); len(left) > 0 {
			t.Errorf("process group %d still has %v", g, left)
		}
	}
	for _, p := range tree {
		if p.alive() {
			t.Errorf("process %d still alive after Stop", p.pid)
		}
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work dir %s not removed: %v", work, err)
	}
	for _, f := range []string{"mattermost.log", "postgres.log", "mail.log", "server.out"} {
		if _, err := os.Stat(filepath.Join(bed.LogDir, f)); err != nil {
			t.Errorf("log file: %v", err)
		}
	}
	if err := bed.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// buildTestPluginBundle builds ./testplugin into a bundle as the server
// wants it: a tar.gz with directory entries, id/plugin.json and the
// executable for this platform.
func buildTestPluginBundle(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	id := "e2e-hello"
	exe := filepath.Join("server", "dist", "plugin-"+runtime.GOOS+"-"+runtime.GOARCH)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, id, exe), "./testplugin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	manifest := map[string]any{
		"id":                 id,
		"name":               "E2E hello",
		"version":            "0.0.1",
		"min_server_version": "7.0.0",
		"server": map[string]any{
			"executables": map[string]string{runtime.GOOS + "-" + runtime.GOARCH: exe},
		},
		"settings_schema": map[string]any{
			"settings": []map[string]any{{"key": "Greeting", "type": "text", "display_name": "Greeting"}},
		},
	}
	b, _ := json.MarshalIndent(manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, id, "plugin.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, id+".tar.gz")
	if err := writeTarGz(bundle, dir, id); err != nil {
		t.Fatal(err)
	}
	return bundle
}

func writeTarGz(out, base, top string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = filepath.Walk(filepath.Join(base, top), func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, path)
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			src, err := os.Open(path)
			if err != nil {
				return err
			}
			defer src.Close()
			if _, err := io.Copy(tw, src); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return f.Close()
}

func TestStartFailsHalfway(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	var work string
	var tree []procID
	hookAfterPostgres = func(b *Bed) error {
		work = b.WorkDir
		tree = descendants(b.Postgres.Pid())
		panic("injected failure")
	}
	defer func() { hookAfterPostgres = nil }()
	func() {
		defer func() {
			if r := recover(); r != "injected failure" {
				t.Errorf("recovered %v", r)
			}
		}()
		_, _ = Start(ctx, Options{Log: tlog{t}, LogDir: t.TempDir()})
		t.Errorf("Start did not panic")
	}()
	if len(tree) == 0 {
		t.Fatal("postgres was not running at the hook")
	}
	for _, p := range tree {
		if p.alive() {
			t.Errorf("postgres process %d left running", p.pid)
		}
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work dir %s left: %v", work, err)
	}

	hookAfterPostgres = func(b *Bed) error { return io.ErrUnexpectedEOF }
	bed, err := Start(ctx, Options{Log: tlog{t}, LogDir: t.TempDir()})
	if bed != nil || err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("Start = %v, %v", bed, err)
	}
}

func TestParseMail(t *testing.T) {
	raw := "From: <a@example.com>\r\n" +
		"Subject: =?UTF-8?q?[Mattermost]_R=C3=A9initialiser?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Go to http://127.0.0.1:1/reset?token=3Dabc=\r\ndef now\r\n" +
		"--XX\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+SGk8L3A+\r\n" +
		"--XX--\r\n"
	m := ParseMail([]byte(raw))
	if m.Subject != "[Mattermost] Réinitialiser" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Body, "http://127.0.0.1:1/reset?token=abcdef now") {
		t.Errorf("body %q", m.Body)
	}
	if m.HTML != "<p>Hi</p>" {
		t.Errorf("html %q", m.HTML)
	}
	only := ParseMail([]byte("Subject: x\r\nContent-Type: text/html\r\n\r\n<p>Hello &amp; bye</p>"))
	if only.Body != "Hello & bye" {
		t.Errorf("html-only body %q", only.Body)
	}
}

func TestApplyDiff(t *testing.T) {
	dst := map[string]any{"A": map[string]any{"x": 1.0, "unknown": "keep", "gone": 2.0}, "B": "b", "Z": "server-only"}
	before := map[string]any{"A": map[string]any{"x": 1.0, "gone": 2.0}, "B": "b"}
	after := map[string]any{"A": map[string]any{"x": 5.0}, "B": "b", "C": "new"}
	applyDiff(dst, before, after)
	want := map[string]any{"A": map[string]any{"x": 5.0, "unknown": "keep"}, "B": "b", "C": "new", "Z": "server-only"}
	got, _ := json.Marshal(dst)
	w, _ := json.Marshal(want)
	if string(got) != string(w) {
		t.Errorf("got %s want %s", got, w)
	}
}

func TestBuildPluginBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make dist; skipped with -short")
	}
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		t.Skip("no Makefile in the repository root yet")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bundle, err := BuildPluginBundle(ctx, root, tlog{t})
	if err != nil {
		t.Fatal(err)
	}
	id, err := BundlePluginID(bundle)
	if err != nil || id != "account-sync" {
		t.Errorf("plugin id of %s: %q, %v", bundle, id, err)
	}
}
