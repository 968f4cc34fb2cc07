package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	l, ok := parseLogLine(`info  [2026-11-30 04:02:08.381 Z] Account Sync: scan finished                   caller="app/plugin_api.go:1005" plugin_id=account-sync pairs_apart=0 forwarded=0 offered=0 agreed=0 took=1.234s mattermost_calls=51 user_pages=51`)
	if !ok {
		t.Fatal("not parsed")
	}
	if want := time.Date(2026, 11, 30, 4, 2, 8, 381e6, time.UTC); !l.At.Equal(want) {
		t.Errorf("at %s, want %s", l.At, want)
	}
	if l.Msg != "Account Sync: scan finished" || l.Fields["caller"] != "app/plugin_api.go:1005" || l.Fields["took"] != "1.234s" || l.int("user_pages") != 51 {
		t.Errorf("parsed %+v", l)
	}
	if _, ok := parseLogLine("panic: not a log line"); ok {
		t.Error("parsed a line that is not the server's")
	}
}

// The follower returns the plugin's complete lines once each, from where
// the log was when it started.
func TestServerLogNext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mattermost.log")
	old := `info  [2026-11-30 04:02:08.381 Z] before  caller="x" plugin_id=account-sync` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &serverLog{path: path, offset: int64(len(old))}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, _ = f.WriteString(`info  [2026-11-30 04:02:09.000 Z] other plugin  caller="x" plugin_id=someone-else` + "\n" +
		`info  [2026-11-30 04:02:10.000 Z] one  caller="x" plugin_id=account-sync` + "\n" +
		`info  [2026-11-30 04:02:11.000 Z] two  caller="x" plugin_id=acc`)
	lines, err := l.next()
	if err != nil || len(lines) != 1 || lines[0].Msg != "one" {
		t.Fatalf("first read: %+v %v", lines, err)
	}
	_, _ = f.WriteString("ount-sync\n")
	lines, err = l.next()
	if err != nil || len(lines) != 1 || lines[0].Msg != "two" {
		t.Fatalf("second read: %+v %v", lines, err)
	}
	if lines, _ = l.next(); len(lines) != 0 {
		t.Errorf("read again: %+v", lines)
	}
}

func TestSelectedPhases(t *testing.T) {
	if set, err := selected(nil); set != nil || err != nil {
		t.Errorf("no -only: %v %v", set, err)
	}
	set, err := selected([]string{"scan", " crowds"})
	if err != nil || !set["scan"] || !set["crowds"] || !set["users"] || set["latency"] {
		t.Errorf("scan,crowds: %v %v", set, err)
	}
	if _, err := selected([]string{"scans"}); err == nil {
		t.Error("an unknown phase was taken")
	}
}
