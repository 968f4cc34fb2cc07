// Package testbed runs a real Mattermost server for end-to-end tests: a
// private PostgreSQL, an SMTP sink and the server built from e2e/mmserver,
// all on 127.0.0.1 and free ports, with a system admin, a team and its
// town-square channel ready.
//
//	bed, err := testbed.Start(ctx, testbed.Options{Log: os.Stderr})
//	if err != nil { ... }
//	defer bed.Stop()
//
// Every process runs in its own process group with a parent-death signal, so
// nothing outlives the test binary even when it dies without running its
// deferred calls; data directories left behind by such a death are removed
// by the next Start. Logs are kept in LogDir.
package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// Options configure Start. The zero value is fine.
type Options struct {
	// RepoRoot is the plugin repository root; default: found by walking up
	// from the working directory to the go.mod of the plugin module.
	RepoRoot string
	// LogDir keeps the server log (mattermost.log, notifications.log),
	// server.out, postgres.log and mail.log; default
	// <RepoRoot>/e2e/logs/<timestamp>-<pid>/ (git-ignored). Kept by Stop.
	LogDir string
	// Log receives progress lines; default io.Discard.
	Log io.Writer
}

// Bed is a running test bed.
type Bed struct {
	RepoRoot string
	LogDir   string

	SiteURL       string         // http://127.0.0.1:PORT
	Admin         *model.Client4 // logged in as the first user (system admin)
	AdminUser     *model.User
	AdminPassword string
	Team          *model.Team    // created at start
	Channel       *model.Channel // the team's town-square
	Mail          *MailSink
	Postgres      *Postgres

	ServerBinaryPath string
	ConfigPath       string // the server's config.json (the server rewrites it)
	WorkDir          string // temporary data directories, removed by Stop

	log    io.Writer
	mm     *mmServer
	modDir string // the server module's folder (i18n, templates, fonts)

	mu        sync.Mutex
	passwords map[string]string // username -> password of users made by the bed

	// More servers on the same database and file store (StartSecondServer),
	// guarded by mu; extrasClosed once Stop has begun.
	extras       []*SecondServer
	extrasClosed bool
	serverCount  int // servers started so far, the first included

	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{}
}

// Start brings up PostgreSQL, the SMTP sink and the Mattermost server, then
// creates the admin, the team and finds town-square. If anything fails it
// stops whatever it started before returning the error.
func Start(ctx context.Context, opts Options) (_ *Bed, err error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	root := opts.RepoRoot
	if root == "" {
		if root, err = FindRepoRoot(); err != nil {
			return nil, err
		}
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	logDir := opts.LogDir
	if logDir == "" {
		name := time.Now().Format("20060102-150405") + "-" + strconv.Itoa(os.Getpid())
		if n := bedCount.Add(1); n > 1 { // several beds in one process
			name += "-" + strconv.Itoa(int(n))
		}
		logDir = filepath.Join(root, "e2e", "logs", name)
	}
	if logDir, err = filepath.Abs(logDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	begin := time.Now()
	fmt.Fprintf(log, "test bed: logs in %s\n", logDir)
	cleanStaleWorkDirs(log)

	b := &Bed{
		RepoRoot:  root,
		LogDir:    logDir,
		log:       log,
		passwords: map[string]string{},
		stopped:   make(chan struct{}),
	}
	register(b)
	ok := false
	defer func() {
		if !ok { // error or panic: tear down what was started
			if serr := b.Stop(); serr != nil {
				fmt.Fprintf(log, "test bed: stop after failed start: %v\n", serr)
			}
			if err != nil {
				err = fmt.Errorf("test bed start: %w (logs in %s)", err, logDir)
			}
		}
	}()

	// The server build may take minutes; meanwhile start the rest.
	type binResult struct {
		bin, modDir string
		err         error
	}
	binCh := make(chan binResult, 1)
	go func() {
		var r binResult
		r.bin, r.err = ServerBinary(ctx, root, log)
		if r.err == nil {
			r.modDir, r.err = serverModuleDir(ctx, root)
		}
		binCh <- r
	}()
	waitBin := func() binResult { return <-binCh }
	binWaited := false
	defer func() {
		if !binWaited { // do not leave the build running behind our back
			waitBin()
		}
	}()

	work, err := os.MkdirTemp("", workDirPrefix)
	if err != nil {
		return nil, err
	}
	b.WorkDir = work
	// The database runs as another OS user when we are root: let it through.
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}

	if b.Mail, err = StartMailSink(filepath.Join(logDir, "mail.log")); err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	fmt.Fprintf(log, "smtp sink on %s\n", b.Mail.Addr)

	b.Postgres, err = startPostgres(ctx, work, logDir, log)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}

	if hookAfterPostgres != nil {
		if err := hookAfterPostgres(b); err != nil {
			return nil, err
		}
	}

	br := waitBin()
	binWaited = true
	if br.err != nil {
		return nil, br.err
	}
	b.ServerBinaryPath = br.bin
	b.modDir = br.modDir

	mmStart := time.Now()
	b.mm, err = startMattermost(ctx, br.bin, br.modDir, work, logDir, b.Postgres, b.Mail, log)
	if b.mm != nil {
		b.SiteURL = b.mm.siteURL
		b.ConfigPath = b.mm.configPath
	}
	if err != nil {
		return nil, fmt.Errorf("mattermost: %w", err)
	}
	fmt.Fprintf(log, "mattermost up on %s in %s\n", b.SiteURL, time.Since(mmStart).Round(100*time.Millisecond))

	if err := b.bootstrap(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "test bed ready in %s: admin %q, team %q\n", time.Since(begin).Round(100*time.Millisecond), b.AdminUser.Username, b.Team.Name)
	ok = true
	return b, nil
}

// bootstrap creates the first user (who becomes system admin), logs in,
// creates the team and finds its town-square.
func (b *Bed) bootstrap(ctx context.Context) error {
	b.AdminPassword = newPassword()
	c := model.NewAPIv4Client(b.SiteURL)
	u, _, err := c.CreateUser(ctx, &model.User{
		Username:            "admin",
		Email:               "admin@example.com",
		Password:            b.AdminPassword,
		DisableWelcomeEmail: true,
	})
	if err != nil {
		return fmt.Errorf("creating the first user: %w", err)
	}
	if _, _, err := c.Login(ctx, u.Username, b.AdminPassword); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	if !u.EmailVerified {
		if u2, _, err := c.VerifyUserEmailWithoutToken(ctx, u.Id); err == nil {
			u = u2
		}
	}
	if me, _, err := c.GetMe(ctx, ""); err == nil {
		u = me
	}
	if !u.IsSystemAdmin() {
		return fmt.Errorf("first user %q is not a system admin (roles %q)", u.Username, u.Roles)
	}
	b.Admin, b.AdminUser = c, u
	b.setPassword(u.Username, b.AdminPassword)

	team, _, err := c.CreateTeam(ctx, &model.Team{Name: "e2e", DisplayName: "E2E", Type: model.TeamOpen})
	if err != nil {
		return fmt.Errorf("creating the team: %w", err)
	}
	b.Team = team
	ch, _, err := c.GetChannelByName(ctx, model.DefaultChannelName, team.Id, "")
	if err != nil {
		return fmt.Errorf("finding town-square: %w", err)
	}
	b.Channel = ch
	return nil
}

// Stop stops every process the bed started (server, then database, then the
// SMTP sink) and removes its data directories; LogDir is kept. Idempotent
// and safe to call concurrently; later calls return the first call's result.
func (b *Bed) Stop() error {
	if b == nil {
		return nil
	}
	b.stopOnce.Do(func() {
		var errs []error
		b.mu.Lock()
		b.extrasClosed = true
		extras := append([]*SecondServer(nil), b.extras...)
		b.mu.Unlock()
		for _, s := range extras {
			if err := s.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("mattermost server %d: %w", s.N, err))
			}
		}
		if err := b.mm.stop(); err != nil {
			errs = append(errs, fmt.Errorf("mattermost: %w", err))
		}
		if err := b.Postgres.stop(); err != nil {
			errs = append(errs, fmt.Errorf("postgres: %w", err))
		}
		if err := b.Mail.Close(); err != nil {
			errs = append(errs, fmt.Errorf("smtp sink: %w", err))
		}
		if b.WorkDir != "" {
			if err := os.RemoveAll(b.WorkDir); err != nil {
				errs = append(errs, err)
			}
		}
		unregister(b)
		b.stopErr = errors.Join(errs...)
		if b.stopErr != nil {
			b.logf("test bed stopped with errors: %v\n", b.stopErr)
		} else {
			b.logf("test bed stopped\n")
		}
		close(b.stopped)
	})
	return b.stopErr
}

// logf writes a progress line. Stop may run after the test whose t.Log the
// writer wraps has finished (StopAll in TestMain), when writing panics.
func (b *Bed) logf(format string, args ...any) {
	if b.log == nil {
		return
	}
	defer func() { _ = recover() }()
	fmt.Fprintf(b.log, format, args...)
}

// Done is closed once Stop has finished.
func (b *Bed) Done() <-chan struct{} { return b.stopped }

// StopOnSignal stops the bed when the process gets SIGINT (Ctrl-C), SIGTERM
// or SIGHUP, then exits the process with 128+signal. For demos that run
// until interrupted: call it, then block (select {}). The handler goes away
// when the bed is stopped otherwise.
func (b *Bed) StopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		var sig os.Signal
		select {
		case sig = <-ch:
		case <-b.stopped:
			signal.Stop(ch)
			return
		}
		b.logf("test bed: got %v, stopping...\n", sig)
		err := b.Stop()
		if err != nil {
			fmt.Fprintf(os.Stderr, "test bed stop: %v\n", err)
		}
		code := 1
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		os.Exit(code)
	}()
}

// ProcessGroups are the process group ids of the processes the bed started
// (the server's group also holds its plugin processes, the database's its
// backends), then those of the servers StartSecondServer started that are
// still running. After Stop none of them has members.
func (b *Bed) ProcessGroups() []int {
	var ids []int
	if b.mm != nil && b.mm.proc != nil {
		ids = append(ids, b.mm.proc.pid())
	}
	if b.Postgres != nil && b.Postgres.proc != nil {
		ids = append(ids, b.Postgres.proc.pid())
	}
	b.mu.Lock()
	for _, s := range b.extras {
		if s.mm != nil && s.mm.proc != nil {
			ids = append(ids, s.mm.proc.pid())
		}
	}
	b.mu.Unlock()
	return ids
}

// Processes lists the pids of every process the bed runs right now: the
// server and its plugin processes, the postmaster and its backends.
func (b *Bed) Processes() []int {
	var pids []int
	for _, g := range b.ProcessGroups() {
		for _, p := range descendants(g) {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// ServerPid is the pid of the Mattermost server process (0 if none).
func (b *Bed) ServerPid() int {
	if b.mm == nil || b.mm.proc == nil {
		return 0
	}
	return b.mm.proc.pid()
}

// ServerLogTail returns the last n lines of the server log (mattermost.log),
// followed by the end of server.out when the server wrote anything there.
func (b *Bed) ServerLogTail(n int) string {
	return (&mmServer{logDir: b.LogDir}).logTail(n)
}

// bedCount numbers the beds of this process (for default log directories).
var bedCount atomic.Int32

// hookAfterPostgres lets tests make Start fail halfway.
var hookAfterPostgres func(*Bed) error

// ---- registry of live beds, for TestMain and signal handlers ----

var (
	liveMu sync.Mutex
	live   = map[*Bed]struct{}{}
)

func register(b *Bed) {
	liveMu.Lock()
	live[b] = struct{}{}
	liveMu.Unlock()
}

func unregister(b *Bed) {
	liveMu.Lock()
	delete(live, b)
	liveMu.Unlock()
}

// StopAll stops every bed of this process that is still running (for
// TestMain, after m.Run()).
func StopAll() error {
	liveMu.Lock()
	var beds []*Bed
	for b := range live {
		beds = append(beds, b)
	}
	liveMu.Unlock()
	var errs []error
	for _, b := range beds {
		errs = append(errs, b.Stop())
	}
	return errors.Join(errs...)
}

// ---- leftovers of test binaries that died without Stop ----

const (
	workDirPrefix = "mm-e2e-bed-"
	ownerFile     = "owner.pid"
	groupsFile    = "pgids"
)

// recordProcessGroup notes a started process group in the work directory so
// that a later Start can clean up after a test binary that was killed.
func recordProcessGroup(work string, pgid int) error {
	f, err := os.OpenFile(filepath.Join(work, groupsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, pgid)
	return err
}

// cleanStaleWorkDirs removes work directories whose owning process is gone,
// killing any of their process groups that still run (normally none: the
// parent-death signal took care of them).
func cleanStaleWorkDirs(log io.Writer) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), workDirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // being created, or not ours
		}
		owner, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if owner == os.Getpid() || processAlive(owner) {
			continue
		}
		if g, err := os.ReadFile(filepath.Join(dir, groupsFile)); err == nil {
			for _, f := range strings.Fields(string(g)) {
				pgid, _ := strconv.Atoi(f)
				if pgid > 0 && processAlive(pgid) && cmdlineContains(pgid, dir) {
					_ = syscall.Kill(-pgid, syscall.SIGKILL)
				}
			}
		}
		if err := os.RemoveAll(dir); err == nil {
			fmt.Fprintf(log, "removed stale test bed directory %s\n", dir)
		}
	}
}

// ---- small helpers ----

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newPassword satisfies any password policy the server may have.
func newPassword() string { return "Pw-" + randomHex(8) + "-Aa1!" }
