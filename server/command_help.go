package main

import (
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// helpText is /account help: one line per subcommand form of the table,
// the system admins' forms last.
var helpText = buildHelp()

// commandNames lists the subcommands for the command's description, e.g.
// "email, link, …, zulip check, help".
var commandNames = buildCommandNames()

func buildHelp() string { return reply.Help(helpLines(false), helpLines(true)) }

// helpLines are the help lines of the admin-only forms or of the others.
func helpLines(admin bool) []string {
	var lines []string
	for _, s := range subcommands {
		if s.admin == admin {
			lines = append(lines, reply.HelpLine(s.syntax(), s.help))
		}
	}
	return lines
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
