package bench

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
)

// logLine is one line of mattermost.log (the server's text format): when,
// the message, and its key=value fields.
type logLine struct {
	At     time.Time
	Msg    string
	Fields map[string]string
}

var (
	logHead  = regexp.MustCompile(`^\w+\s+\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) Z\] (.*?)\s+caller=`)
	logField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)
)

func parseLogLine(s string) (logLine, bool) {
	m := logHead.FindStringSubmatch(s)
	if m == nil {
		return logLine{}, false
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[1], time.UTC)
	if err != nil {
		return logLine{}, false
	}
	l := logLine{At: at, Msg: strings.TrimSpace(m[2]), Fields: map[string]string{}}
	for _, f := range logField.FindAllStringSubmatch(s[len(m[0])-len("caller="):], -1) {
		v := f[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		l.Fields[f[1]] = v
	}
	return l, true
}

func (l logLine) int(key string) int {
	n, _ := strconv.Atoi(l.Fields[key])
	return n
}

// serverLog follows mattermost.log from where it was when it was made.
type serverLog struct {
	path    string
	offset  int64
	partial []byte
}

func followServerLog(st *stack.Stack) *serverLog {
	l := &serverLog{path: filepath.Join(st.Bed.LogDir, "mattermost.log")}
	if fi, err := os.Stat(l.path); err == nil {
		l.offset = fi.Size()
	}
	return l
}

// next returns the plugin's lines written since the last call.
func (l *serverLog) next() ([]logLine, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < l.offset { // rotated
		l.offset, l.partial = 0, nil
	}
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	l.offset += int64(len(b))
	b = append(l.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		l.partial = b
		return nil, nil
	}
	l.partial = append([]byte(nil), b[end+1:]...)
	var out []logLine
	for _, s := range strings.Split(string(b[:end]), "\n") {
		if !strings.Contains(s, "plugin_id="+stack.PluginID) {
			continue
		}
		if line, ok := parseLogLine(s); ok {
			out = append(out, line)
		}
	}
	return out, nil
}
