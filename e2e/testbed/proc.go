package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a long-running child process started by the bed. It runs in its own
// process group (so that it and all its children can be signalled at once)
// and gets a parent-death signal, so it does not outlive the test binary even
// when that dies without running its deferred calls (test timeout, SIGKILL).
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *os.File

	done    chan struct{}
	waitErr error
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited (and been reaped).
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to d for the process to exit.
func (p *proc) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// stop asks the process to stop with graceful (when not nil), waits up to
// grace for it to exit, then kills it. It returns once the leader has been
// reaped and none of its descendants (taken just before stopping) nor any
// member of its process group remains. (PostgreSQL backends call setsid, so
// they leave the postmaster's group: the process tree is what counts.)
func (p *proc) stop(graceful func() error, grace time.Duration) error {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	var errs []error
	pgid := p.pid()
	tree := descendants(pgid)
	if !p.exited() && graceful != nil {
		if err := graceful(); err != nil {
			errs = append(errs, fmt.Errorf("%s: graceful stop: %w", p.name, err))
		}
		p.waitExit(grace)
	}
	if !p.exited() {
		errs = append(errs, fmt.Errorf("%s (pid %d) did not stop within %s; killed", p.name, pgid, grace))
		tree = append(tree, descendants(pgid)...)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if !p.waitExit(10 * time.Second) {
			errs = append(errs, fmt.Errorf("%s (pid %d) still running after SIGKILL", p.name, pgid))
		}
	}
	// Children of the leader (database backends, plugin processes) normally
	// leave on their own once the leader is gone; give them a moment, then
	// kill what remains.
	remaining := func() []int {
		left := groupMembers(pgid)
		for _, pr := range tree {
			if pr.alive() {
				left = append(left, pr.pid)
			}
		}
		return left
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(remaining()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(remaining()) > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		for _, pr := range tree {
			if pr.alive() {
				_ = syscall.Kill(pr.pid, syscall.SIGKILL)
			}
		}
		deadline = time.Now().Add(5 * time.Second)
		for len(remaining()) > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if left := remaining(); len(left) > 0 {
			errs = append(errs, fmt.Errorf("%s: processes %v survive SIGKILL", p.name, left))
		}
	}
	if p.out != nil {
		_ = p.out.Close()
	}
	return errors.Join(errs...)
}

// procID identifies a process across pid reuse.
type procID struct {
	pid   int
	start uint64 // start time, clock ticks after boot
}

func (p procID) alive() bool {
	st, ok := procStat(p.pid)
	return ok && st.start == p.start && st.state != "Z" && st.state != "X"
}

// descendants lists pid and all its descendants (by parent pid) now alive.
func descendants(pid int) []procID {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	stats := map[int]statInfo{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ok := procStat(p)
		if !ok || st.state == "Z" || st.state == "X" {
			continue
		}
		stats[p] = st
		children[st.ppid] = append(children[st.ppid], p)
	}
	var out []procID
	var walk func(int)
	walk = func(p int) {
		st, ok := stats[p]
		if !ok {
			return
		}
		out = append(out, procID{pid: p, start: st.start})
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	return out
}

// startProc starts cmd as a bed process: own process group, parent-death
// signal deathSig, output to out. The process is reaped in the background.
func startProc(name string, cmd *exec.Cmd, out *os.File, deathSig syscall.Signal) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = deathSig
	cmd.Stdin = nil
	cmd.Stdout = out
	cmd.Stderr = out
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// The parent-death signal is delivered when the *thread* that forked the
// child exits, not the process. Go may retire an OS thread (a goroutine that
// exits while locked to its thread takes the thread with it), so every bed
// process is forked from one goroutine locked to a thread that never exits.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawnReqs {
				r.res <- r.cmd.Start()
			}
		}()
	})
	res := make(chan error, 1)
	spawnReqs <- spawnReq{cmd: cmd, res: res}
	return <-res
}

// groupMembers lists the pids of live (non-zombie) processes whose process
// group is pgid, read from /proc.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ok := procStat(pid)
		if !ok || st.state == "Z" || st.state == "X" {
			continue
		}
		if st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

type statInfo struct {
	state string
	ppid  int
	pgrp  int
	start uint64
}

func procStat(pid int) (statInfo, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return statInfo{}, false
	}
	// pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return statInfo{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return statInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	start, _ := strconv.ParseUint(f[19], 10, 64) // field 22 of stat
	return statInfo{state: f[0], ppid: ppid, pgrp: pgrp, start: start}, true
}

// processAlive reports whether a process with that pid exists (zombies count
// as gone).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, ok := procStat(pid)
	return ok && st.state != "Z" && st.state != "X"
}

// cmdlineContains reports whether the command line of pid mentions s.
func cmdlineContains(pid int, s string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte(s))
}

// filteredEnv is the current environment without MM_* variables, which would
// override (and freeze) the server's configuration.
func filteredEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MM_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
