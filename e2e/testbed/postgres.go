package testbed

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Postgres is the private PostgreSQL instance of a bed.
type Postgres struct {
	Port      int    // TCP port on 127.0.0.1
	SocketDir string // private unix socket directory
	DataDir   string
	User      string // Mattermost's database user
	Password  string
	Database  string

	binDir  string
	cred    *syscall.Credential // set when running as root: run as the postgres OS user
	logPath string
	proc    *proc
}

// DSN is the connection string Mattermost uses.
func (pg *Postgres) DSN() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=10",
		pg.User, pg.Password, pg.Port, pg.Database)
}

// Pid is the postmaster's pid (also its process group id), 0 if not running.
func (pg *Postgres) Pid() int {
	if pg == nil || pg.proc == nil {
		return 0
	}
	return pg.proc.pid()
}

// tool returns the path of a PostgreSQL program, preferring the directory of
// the `postgres` binary on PATH (Debian's /usr/bin wrappers need a cluster
// configuration we do not have).
func (pg *Postgres) tool(name string) string {
	if pg.binDir != "" {
		p := filepath.Join(pg.binDir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// command prepares a short-lived PostgreSQL tool run as the database OS user.
func (pg *Postgres) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pg.tool(name), args...)
	cmd.Dir = dir
	cmd.Env = append(filteredEnv(), "PGCONNECT_TIMEOUT=5", "LC_ALL=C")
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd
}

func (pg *Postgres) run(ctx context.Context, dir, name string, args ...string) error {
	cmd := pg.command(ctx, dir, name, args...)
	out, err := cmd.CombinedOutput()
	pg.appendLog(fmt.Sprintf("$ %s %s\n%s", name, strings.Join(args, " "), out))
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (pg *Postgres) appendLog(s string) {
	f, err := os.OpenFile(pg.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.WriteString(f, s)
}

// startPostgres initialises a cluster under root, starts it on a free port
// and creates Mattermost's user and database. On error the returned value
// may still hold a running process: the caller stops it.
func startPostgres(ctx context.Context, root, logDir string, log io.Writer) (*Postgres, error) {
	pg := &Postgres{
		User:     "mmuser",
		Password: "mmuser-" + randomHex(8),
		Database: "mattermost",
		logPath:  filepath.Join(logDir, "postgres.log"),
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			pg.binDir = filepath.Dir(real)
		}
	}
	if _, err := os.Stat(pg.tool("postgres")); err != nil {
		return nil, fmt.Errorf("postgres binaries not found on PATH (need initdb, postgres, pg_ctl, psql): %w", err)
	}

	pgRoot := filepath.Join(root, "pg")
	pg.DataDir = filepath.Join(pgRoot, "data")
	pg.SocketDir = filepath.Join(pgRoot, "sock")
	for _, d := range []string{pgRoot, pg.SocketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and no postgres OS user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{uint32(gid)}}
		for _, d := range []string{pgRoot, pg.SocketDir} {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
	}

	fmt.Fprintln(log, "postgres: initdb...")
	pwFile := filepath.Join(pgRoot, "pw")
	if err := os.WriteFile(pwFile, []byte("postgres-"+randomHex(8)+"\n"), 0o600); err != nil {
		return nil, err
	}
	if pg.cred != nil {
		_ = os.Chown(pwFile, int(pg.cred.Uid), int(pg.cred.Gid))
	}
	if err := pg.run(ctx, pgRoot, "initdb",
		"-D", pg.DataDir, "-U", "postgres", "--pwfile", pwFile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"); err != nil {
		return nil, err
	}
	_ = os.Remove(pwFile)

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg.Port = port
	out, err := os.OpenFile(pg.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(pg.tool("postgres"),
		"-D", pg.DataDir,
		"-p", strconv.Itoa(port),
		"-k", pg.SocketDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_permissions=0700",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "logging_collector=off",
		"-c", "log_min_messages=warning",
		"-c", "log_line_prefix=%m [%p] ",
		"-c", "timezone=UTC",
	)
	cmd.Dir = pgRoot
	cmd.Env = append(filteredEnv(), "LC_ALL=C")
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	// SIGQUIT: immediate shutdown, backends follow.
	p, err := startProc("postgres", cmd, out, syscall.SIGQUIT)
	if err != nil {
		out.Close()
		return nil, err
	}
	pg.proc = p
	if err := recordProcessGroup(root, p.pid()); err != nil {
		return pg, err
	}

	// Wait until it accepts connections.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if p.exited() {
			return pg, fmt.Errorf("postgres exited during start-up (%w):\n%s", p.waitErr, tailFile(pg.logPath, 30))
		}
		c := pg.command(ctx, pgRoot, "pg_isready", "-q", "-h", pg.SocketDir, "-p", strconv.Itoa(port), "-U", "postgres", "-d", "postgres")
		if c.Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			return pg, fmt.Errorf("postgres not ready after 60s:\n%s", tailFile(pg.logPath, 30))
		}
		select {
		case <-ctx.Done():
			return pg, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}

	if err := pg.run(ctx, pgRoot, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", pg.SocketDir, "-p", strconv.Itoa(port), "-U", "postgres", "-d", "postgres",
		"-c", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", pg.User, pg.Password),
		"-c", fmt.Sprintf("CREATE DATABASE %s OWNER %s ENCODING 'UTF8'", pg.Database, pg.User),
	); err != nil {
		return pg, err
	}
	fmt.Fprintf(log, "postgres up on 127.0.0.1:%d (pid %d)\n", port, p.pid())
	return pg, nil
}

// stop shuts the cluster down with `pg_ctl stop -m fast`, killing it if that
// does not work.
func (pg *Postgres) stop() error {
	if pg == nil || pg.proc == nil {
		return nil
	}
	return pg.proc.stop(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		err := pg.run(ctx, filepath.Dir(pg.DataDir), "pg_ctl", "stop", "-D", pg.DataDir, "-m", "fast", "-w", "-t", "30")
		if err != nil {
			// Fast shutdown by signal, as pg_ctl would have done.
			_ = pg.proc.cmd.Process.Signal(syscall.SIGINT)
		}
		return err
	}, 30*time.Second)
}
