package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// The crowds are bound by CPU on the test bed: every process shares its
// cores. What each change costs each process (user and system time, from
// /proc) shows where: the server, the plugin, PostgreSQL.

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// cpuTimes is CPU time used so far, by process family.
type cpuTimes map[string]time.Duration

// cpuNow reads the CPU time of the server, the plugin and PostgreSQL (the
// postmaster's process group: its backends).
func cpuNow(st *stack.Stack) cpuTimes {
	out := cpuTimes{}
	if pid := st.Bed.ServerPid(); pid > 0 {
		out["server"] = procCPU(pid)
	}
	if pid, err := pluginPid(st); err == nil {
		out["plugin"] = procCPU(pid)
	}
	if pg := st.Bed.Postgres.Pid(); pg > 0 {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if f := statFields(pid); len(f) > 2 && f[2] == strconv.Itoa(pg) {
				out["postgres"] += procCPU(pid)
			}
		}
	}
	return out
}

// procCPU is a process's user and system time.
func procCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64) // utime, field 14 of stat
	s, _ := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return time.Duration(u+s) * clockTick
}

// statFields are the fields of /proc/<pid>/stat after "(comm)": state,
// ppid, pgrp, ...
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// perChange is the CPU each process used between before and now, per
// change of n, as "server 3.1 ms, plugin 1.2 ms, ...".
func (now cpuTimes) perChange(before cpuTimes, n int) (string, time.Duration) {
	var parts []string
	var total time.Duration
	for _, k := range []string{"server", "plugin", "postgres"} {
		d := (now[k] - before[k]) / time.Duration(max(n, 1))
		total += d
		parts = append(parts, fmt.Sprintf("%s %.1f ms", k, float64(d)/float64(time.Millisecond)))
	}
	return strings.Join(parts, ", "), total
}
