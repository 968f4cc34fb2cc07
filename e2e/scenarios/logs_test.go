package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// findInLogs reports the first file in the bed's log folder that holds s.
func findInLogs(t *testing.T, s string) (string, bool) {
	t.Helper()
	return findInLogsFunc(t, func(text string) bool { return strings.Contains(text, s) })
}

// findInLogsFunc reports the first file in the bed's log folder whose text
// satisfies match.
func findInLogsFunc(t *testing.T, match func(text string) bool) (string, bool) {
	t.Helper()
	var found string
	err := filepath.WalkDir(w.Bed.LogDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if match(string(b)) {
			found = path
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the logs: %v", err)
	}
	return found, found != ""
}

func zuliptestUser(email string) zuliptest.User {
	return zuliptest.User{Email: email, FullName: "Someone Else"}
}
