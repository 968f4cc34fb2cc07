package bench

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// executable is one platform's plugin executable in the bundle.
type executable struct {
	Platform string
	Bytes    int64
}

// bundleSizes lists the executables of a bundle and its own size.
func bundleSizes(bundle string) (exes []executable, total int64, err error) {
	st, err := os.Stat(bundle)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(bundle) //nolint:gosec // the bundle the bench was given
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, 0, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		base := path.Base(h.Name)
		if strings.HasPrefix(base, "plugin-") && strings.Contains(h.Name, "server/dist/") {
			p := strings.TrimSuffix(strings.TrimPrefix(base, "plugin-"), ".exe")
			exes = append(exes, executable{Platform: p, Bytes: h.Size})
		}
	}
	sort.Slice(exes, func(i, j int) bool { return exes[i].Platform < exes[j].Platform })
	return exes, st.Size(), nil
}

// pluginPid finds the plugin's process: a child of the bed's server whose
// command line is the plugin executable under the bed's work directory.
func pluginPid(st *stack.Stack) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		c := string(cmd)
		if strings.Contains(c, st.Bed.WorkDir) && strings.Contains(c, "plugin-") && strings.Contains(c, stack.PluginID) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no plugin process found under %s", st.Bed.WorkDir)
}

// rssBytes reads a process's resident set size.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// rssSampler records the largest RSS of the plugin process while it runs.
type rssSampler struct {
	mu   sync.Mutex
	max  int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(st *stack.Stack) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if pid, err := pluginPid(st); err == nil {
				if r, err := rssBytes(pid); err == nil {
					s.mu.Lock()
					s.max = max(s.max, r)
					s.mu.Unlock()
				}
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Max stops the sampler and returns the largest RSS seen.
func (s *rssSampler) Max() int64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// activation disables and enables the plugin and times the enable until
// the server reports the plugin running.
func activation(ctx context.Context, st *stack.Stack) (time.Duration, error) {
	if _, err := st.Bed.Admin.DisablePlugin(ctx, stack.PluginID); err != nil {
		return 0, fmt.Errorf("disable: %w", err)
	}
	start := time.Now()
	if _, err := st.Bed.Admin.EnablePlugin(ctx, stack.PluginID); err != nil {
		return 0, fmt.Errorf("enable: %w", err)
	}
	for {
		if _, err := pluginPid(st); err == nil {
			if ok, err := pluginRunning(ctx, st); err != nil {
				return 0, err
			} else if ok {
				return time.Since(start), nil
			}
		}
		if time.Since(start) > time.Minute {
			return 0, fmt.Errorf("the plugin did not start within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pluginRunning(ctx context.Context, st *stack.Stack) (bool, error) {
	statuses, _, err := st.Bed.Admin.GetPluginStatuses(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range statuses {
		if s.PluginId == stack.PluginID {
			return s.State == model.PluginStateRunning, nil
		}
	}
	return false, nil
}
