package reply

import "strings"

// Usage replies: arguments that fit no form of a subcommand.
const (
	EmailUsage = "Please give exactly one new address, for example `/account email ann@example.org`."
	LinkUsage  = "Please give your Zulip address, for example `/account link ann@example.org`, or the 6-digit code the sync bot sent you in Zulip, for example `/account link 123456`."
	// MigrateDomainUsage is the reply to /account migrate-domain without its two domains.
	MigrateUsage = "Please say what to do with the latest domain migration: `/account migrate status`, `start`, `pause`, `resume` or `cancel`."
	// MigrateDomainUsage is the reply to /account migrate-domain without its two domains.
	MigrateDomainUsage = "Please give the old and the new domain, for example `/account migrate-domain old.example new.example`."
)

const helpFooter = "Only the Zulip account linked to yours is ever changed. Both systems are checked before anything changes. " +
	"If Zulip cannot be reached, the change is saved and made later in both systems or not at all, and the Account Sync bot sends you a direct message. " +
	"If Zulip refuses the change, your Mattermost email is put back (when this server confirms every change by a link, through a link mailed to your old address); " +
	"if the two may end up different, you and your administrator are told."

// Help is /account help around the subcommands' lines: those every user
// may run, then the system admins'.
func Help(userLines, adminLines []string) string {
	var b strings.Builder
	b.WriteString("#### Account Sync\nChange your email in Mattermost and in Zulip with one command:\n\n")
	writeLines(&b, userLines)
	b.WriteString("\nSystem admins:\n\n")
	writeLines(&b, adminLines)
	b.WriteString("\n" + helpFooter)
	return b.String()
}

// HelpLine is one subcommand's line in the help: its syntax and what it
// does.
func HelpLine(syntax, help string) string { return "* `" + syntax + "` — " + help }

func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
}

// NoSuchUser answers an admin command naming a user that does not exist.
func NoSuchUser(name string) string {
	return "There is no Mattermost user `@" + strings.ReplaceAll(name, "`", "") + "`. Check the username. Nothing was changed."
}

// StatusFor is the reply to an admin's /account status @user.
func StatusFor(username, status string) string { return "`@" + username + "`: " + status }
