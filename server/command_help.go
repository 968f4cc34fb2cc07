package main

import "strings"

// helpText is /account help: one line per subcommand form of the table,
// the system admins' forms last.
var helpText = buildHelp()

// commandNames lists the subcommands for the command's description, e.g.
// "email, link, …, zulip check, help".
var commandNames = buildCommandNames()

const emailUsageText = "Please give exactly one new address, for example `/account email ann@example.org`."

const linkUsageText = "Please give your Zulip address, for example `/account link ann@example.org`, or the 6-digit code the sync bot sent you in Zulip, for example `/account link 123456`."

const helpFooter = "Only the Zulip account linked to yours is ever changed. Both systems are checked before anything changes. " +
	"If Zulip cannot be reached, the change is saved and made later in both systems or not at all, and the Account Sync bot sends you a direct message. " +
	"If Zulip refuses the change, your Mattermost email is put back, so the two never end up different."

func buildHelp() string {
	var b strings.Builder
	b.WriteString("#### Account Sync\nChange your email in Mattermost and in Zulip with one command:\n\n")
	writeHelpLines(&b, false)
	b.WriteString("\nSystem admins:\n\n")
	writeHelpLines(&b, true)
	b.WriteString("\n" + helpFooter)
	return b.String()
}

// writeHelpLines writes the help lines of the admin-only forms or of the
// others.
func writeHelpLines(b *strings.Builder, admin bool) {
	for _, s := range subcommands {
		if s.admin == admin {
			b.WriteString("* `" + s.syntax() + "` — " + s.help + "\n")
		}
	}
}

func buildCommandNames() string {
	var names []string
	for _, s := range subcommands {
		if s.menu == nil {
			continue
		}
		name := s.name
		for _, a := range s.args {
			if !strings.HasPrefix(a, "<") && !strings.HasPrefix(a, "@") {
				name += " " + a
			}
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// usageReply answers arguments that fit no form of a subcommand, given the
// name's first form (nil for an unknown name): its usage, or the help.
func usageReply(first *subcommand) string {
	switch {
	case first == nil || first.usage == "":
		return helpText
	case first.usageHelp:
		return first.usage + "\n\n" + helpText
	}
	return first.usage
}
