package reply

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// code shows untrusted text as an inline code span: no Markdown, links or
// mentions render inside it. Backticks and line breaks are replaced and long
// input is cut.
func code(s string) string {
	const limit = 80
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '`':
			return '\''
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > limit {
		s = string(rs[:limit]) + "…"
	}
	if strings.TrimSpace(s) == "" {
		return "(empty)"
	}
	return "`" + s + "`"
}

// reference is the change's ID as the reply shows it, for an admin to find
// it in the log or the records.
func reference(ch account.Change) string { return fmt.Sprintf(" (Reference: %s)", code(ch.ID)) }

// now is the time a result's text is made, for "in about N hours": when
// its change was last updated.
func now(r account.Result) time.Time {
	if !r.Change.UpdatedAt.IsZero() {
		return r.Change.UpdatedAt
	}
	return time.Now()
}

// whenText says when a limit lets the user go on: "in about 3 hours (after
// 2026-11-23 15:04 UTC)".
func whenText(until, now time.Time) string {
	var in string
	switch d := until.Sub(now); {
	case d < time.Minute:
		in = "in less than a minute"
	case d < 2*time.Hour:
		in = fmt.Sprintf("in about %d minutes", int(math.Ceil(d.Minutes())))
	default:
		in = fmt.Sprintf("in about %d hours", int(math.Round(d.Hours())))
	}
	return in + " (after " + utc(until) + " UTC)"
}

// utc is a time as the texts show it: "2026-11-23 15:04", in UTC.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func waitText(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs <= 1 {
		return "a few seconds"
	}
	if secs < 120 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", int(math.Ceil(float64(secs)/60)))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
