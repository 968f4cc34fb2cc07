package testbed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// PluginModule is the Go module path of the plugin repository.
const PluginModule = "github.com/account-sync/mattermost-plugin-account-sync"

// serverModule is the Mattermost server module e2e/mmserver builds.
const serverModule = "github.com/mattermost/mattermost/server/v8"

// FindRepoRoot walks up from the working directory to the directory whose
// go.mod declares the plugin module.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == PluginModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring module %s above the working directory", PluginModule)
		}
		dir = parent
	}
}

func modulePath(goMod string) string {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// ServerBinary returns the path of a Mattermost server binary built from
// <repoRoot>/e2e/mmserver, cached as <repoRoot>/e2e/.cache/bin/mattermost. The
// cache is reused while a hash of the inputs (go.mod, go.sum, *.go of
// e2e/mmserver, and `go version`) is unchanged; the hash is stored beside
// the binary. Concurrent callers (parallel test packages) are serialised by
// a file lock. A cold build takes minutes.
func ServerBinary(ctx context.Context, repoRoot string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	src := filepath.Join(repoRoot, "e2e", "mmserver")
	binDir := filepath.Join(repoRoot, "e2e", ".cache", "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(ctx, filepath.Join(binDir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	hash, err := serverInputsHash(ctx, src)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "mattermost")
	hashFile := bin + ".inputs-sha256"
	if old, err := os.ReadFile(hashFile); err == nil && strings.TrimSpace(string(old)) == hash {
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			fmt.Fprintf(log, "server binary up to date: %s\n", bin)
			return bin, nil
		}
	}

	fmt.Fprintf(log, "building server (e2e/mmserver -> %s); a cold build takes several minutes...\n", bin)
	start := time.Now()
	tmp := bin + ".tmp"
	_ = os.Remove(hashFile)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, ".")
	cmd.Dir = src
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = io.MultiWriter(&out, log)
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("building the server in %s: %w\n%s", src, err, lastLines(out.String(), 40))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	if err := os.WriteFile(hashFile, []byte(hash+"\n"), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "server built in %s\n", time.Since(start).Round(time.Second))
	return bin, nil
}

func serverInputsHash(ctx context.Context, src string) (string, error) {
	h := sha256.New()
	gvCmd := exec.CommandContext(ctx, "go", "version")
	gvCmd.Dir = src // the toolchain may depend on the module's go line
	gv, err := gvCmd.Output()
	if err != nil {
		return "", fmt.Errorf("go version: %w", err)
	}
	fmt.Fprintf(h, "go version: %s\n", bytes.TrimSpace(gv))
	names := []string{"go.mod", "go.sum"}
	gofiles, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil {
		return "", err
	}
	for _, f := range gofiles {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names[2:])
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", fmt.Errorf("server build input: %w", err)
		}
		fmt.Fprintf(h, "file %s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// serverModuleDir is the module cache directory of the server module built
// by e2e/mmserver (its i18n, templates and fonts folders are needed at run
// time).
func serverModuleDir(ctx context.Context, repoRoot string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", serverModule)
	cmd.Dir = filepath.Join(repoRoot, "e2e", "mmserver")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w: %s", serverModule, err, stderr.String())
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded", serverModule)
	}
	return dir, nil
}

// BuildPluginBundle runs `make -C <repoRoot> dist PLATFORMS=<GOOS>-<GOARCH>`
// for this machine and returns the newest dist/account-sync-*.tar.gz.
func BuildPluginBundle(ctx context.Context, repoRoot string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	env, err := exec.CommandContext(ctx, "go", "env", "GOOS", "GOARCH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	f := strings.Fields(string(env))
	if len(f) != 2 {
		return "", fmt.Errorf("go env GOOS GOARCH: unexpected output %q", env)
	}
	platform := f[0] + "-" + f[1]
	fmt.Fprintf(log, "building plugin bundle (make dist PLATFORMS=%s)...\n", platform)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "make", "-C", repoRoot, "dist", "PLATFORMS="+platform)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = io.MultiWriter(&out, log)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("make dist: %w\n%s", err, lastLines(out.String(), 40))
	}
	matches, err := filepath.Glob(filepath.Join(repoRoot, "dist", "account-sync-*.tar.gz"))
	if err != nil {
		return "", err
	}
	var newest string
	var newestTime time.Time
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil {
			continue
		}
		if newest == "" || st.ModTime().After(newestTime) {
			newest, newestTime = m, st.ModTime()
		}
	}
	if newest == "" {
		return "", fmt.Errorf("make dist succeeded but left no dist/account-sync-*.tar.gz in %s", repoRoot)
	}
	fmt.Fprintf(log, "plugin bundle %s (%s)\n", newest, time.Since(start).Round(time.Second))
	return newest, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailFile returns the last n lines of a file (reading at most its last
// 1 MiB), or a note why it cannot.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	const max = 1 << 20
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	off := int64(0)
	if st.Size() > max {
		off = st.Size() - max
	}
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(%v)", err)
	}
	return lastLines(string(b), n)
}
