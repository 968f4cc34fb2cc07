package main

import (
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// subcommand is one form of an /account subcommand: its name, the
// arguments it takes, who may run it, its help line and its handler. A name
// may have several forms (`email <new-address>` and `email @user
// <new-address>`), told apart by their number of arguments. The
// autocomplete item and the usage reply belong to the name: they are set
// on its first form only.
type subcommand struct {
	name string   // the word after /account, in lower case
	args []string // one per argument: "<...>" takes any word, "@user" a @mention, any other word itself (in any case)

	admin   bool                                  // system admins only: the admin gate runs before the handler
	changes bool                                  // it changes something: a refusal says nothing was changed
	help    string                                // its line in the help, after the syntax
	run     func(p *Plugin, c commandCall) string // nil: the help

	// On a name's first form only.
	menu      *menuItem // its autocomplete item
	usage     string    // the reply when the arguments fit no form of the name; "" the help
	usageHelp bool      // the help follows the usage
}

// menuItem is a subcommand's autocomplete item.
type menuItem struct {
	hint    string // what follows the name, e.g. "<new-address>"
	desc    string // what it does
	argHelp string // when it takes a free text argument, what to type
}

// subcommands is every /account subcommand. The dispatch, the autocomplete
// and the help are built from it, in this order.
var subcommands = []subcommand{
	{
		name: "email", args: []string{"<new-address>"}, changes: true, run: (*Plugin).commandEmail,
		help:  "change your email to `<new-address>` (just the address, for example `/account email ann@example.org`).",
		menu:  &menuItem{hint: "<new-address>", desc: "Change your email in Mattermost and Zulip", argHelp: "Your new email address"},
		usage: reply.EmailUsage, usageHelp: true,
	},
	{
		name: "email", args: []string{"@user", "<new-address>"}, admin: true, changes: true, run: (*Plugin).commandEmailFor,
		help: "change another user's email (they get a direct message).",
	},
	{
		name: "link", args: []string{"<your-zulip-address>"}, changes: true, run: (*Plugin).commandLink,
		help: "link your Zulip account: the sync bot sends you a code in Zulip; then type `/account link <code>` here. " +
			"Needed once, unless your verified Mattermost email already is your Zulip email.",
		menu: &menuItem{
			hint: "<zulip-address> | <code>", desc: "Link your Zulip account: get a code in Zulip, then type it here",
			argHelp: "Your Zulip address, or the code the sync bot sent you",
		},
		usage: reply.LinkUsage,
	},
	{
		name: "status", run: (*Plugin).commandStatus,
		help: "show where your latest email change stands.",
		menu: &menuItem{desc: "Show where your latest email change stands"},
	},
	{
		name: "status", args: []string{"@user"}, admin: true, run: (*Plugin).commandStatusFor,
		help: "show where another user's latest email change stands.",
	},
	{
		name: "cancel", changes: true, run: (*Plugin).commandCancel,
		help: "cancel your email change while it has not changed anything yet.",
		menu: &menuItem{desc: "Cancel your email change if it has not changed anything yet"},
	},
	{
		name: "unlink", changes: true, run: (*Plugin).commandUnlink,
		help: "remove the link to your Zulip account.",
		menu: &menuItem{desc: "Remove the link to your Zulip account"},
	},
	{
		name: "link-all", admin: true, changes: true, run: (*Plugin).commandLinkAll,
		help: "link every user whose verified email is the same in both systems.",
		menu: &menuItem{hint: "[unverified]", desc: "Link every user whose verified email is the same in both systems (system admins)"},
	},
	{
		name: "link-all", args: []string{"unverified"}, admin: true, changes: true, run: (*Plugin).commandLinkAllUnverified,
		help: "the same, trusting unverified emails too (only where a directory sets them).",
	},
	{
		name: "zulip", args: []string{"check"}, admin: true, run: (*Plugin).commandZulipCheck,
		help: "check the connection to Zulip.",
		menu: &menuItem{hint: "check", desc: "Check the connection to Zulip and say what to fix (system admins)"},
	},
	{
		name: "drift", admin: true, run: (*Plugin).commandDrift,
		help: "list where Mattermost and Zulip disagree on users' emails, and what to do (changes nothing).",
		menu: &menuItem{desc: "List where Mattermost and Zulip disagree on users' emails (system admins)"},
	},
	{
		name: "migrate-domain", args: []string{"<old-domain>", "<new-domain>"}, admin: true, run: (*Plugin).commandMigrateDomain,
		help:  "plan renaming every email at `<old-domain>` to the same name at `<new-domain>`: who would change, who is skipped and why (changes nothing).",
		menu:  &menuItem{hint: "<old-domain> <new-domain>", desc: "Plan renaming an email domain in both systems (system admins)"},
		usage: reply.MigrateDomainUsage,
	},
	{
		name: "migrate", args: []string{"<status|start|pause|resume|cancel>"}, admin: true, changes: true, run: (*Plugin).commandMigrate,
		help: "where the domain migration under way (or the one planned last) stands, or start, pause, resume or cancel it.",
		menu: &menuItem{hint: "status | start | pause | resume | cancel", desc: "Run the latest domain migration (system admins)",
			argHelp: "status, start, pause, resume or cancel"},
		usage: reply.MigrateUsage,
	},
	{
		name: "help",
		help: "show this help.",
		menu: &menuItem{desc: "Show how to use /account"},
	},
}

// findSubcommand returns the form of name that takes args, or nil and the
// name's first form (nil too for an unknown name).
func findSubcommand(name string, args []string) (sc, first *subcommand) {
	for i := range subcommands {
		s := &subcommands[i]
		if s.name != name {
			continue
		}
		if first == nil {
			first = s
		}
		if s.fits(args) {
			return s, first
		}
	}
	return nil, first
}

// fits says whether args are this form's arguments.
func (s *subcommand) fits(args []string) bool {
	if len(args) != len(s.args) {
		return false
	}
	for i, want := range s.args {
		switch {
		case strings.HasPrefix(want, "<"):
		case strings.HasPrefix(want, "@"):
			if !strings.HasPrefix(args[i], "@") {
				return false
			}
		case !strings.EqualFold(args[i], want):
			return false
		}
	}
	return true
}

// syntax is the form as typed, e.g. "/account email @user <new-address>".
func (s *subcommand) syntax() string {
	return strings.Join(append([]string{"/" + commandTrigger, s.name}, s.args...), " ")
}
