package reply

import (
	"strings"
	"testing"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The notice of a blocked migration goes to the admin who started it and
// words the cause with the user-facing failure text: "Mattermost could not
// change your email. Ask ..." (the admin's own email is not at stake, and
// no user is named); for a demoted starter, "Only system administrators
// can run this" goes to someone who can no longer act on it. The cause
// text ends in a full stop and the notice adds another ("log.. Nobody").
func TestReview3BlockedNoticeSpeaksToTheAdmin(t *testing.T) {
	for _, c := range []account.Code{account.CodeMattermostFailed, account.CodeInternal, account.CodeAdminOnly} {
		m := account.Migration{ID: "m1", From: "old.example", To: "new.example", State: account.MigrationRunning, Blocked: c,
			Items: []account.MigrationItem{{UserID: "u1", OldEmail: "a@old.example", NewEmail: "a@new.example"}}}
		text := MigrationNotice(m)
		if strings.Contains(text, "your email") || strings.Contains(text, "ask your system administrator") || strings.Contains(text, "..") || strings.Contains(text, "Only system administrators can run this") {
			t.Errorf("%s: %s", c, text)
		}
	}
}
