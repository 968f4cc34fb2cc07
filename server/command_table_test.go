package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/stretchr/testify/mock"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// Every form in the table has a help line that the help shows, and its
// name has an autocomplete item.
func TestEverySubcommandHasHelpAndAutocomplete(t *testing.T) {
	items := map[string]*model.AutocompleteData{}
	for _, item := range newCommand().AutocompleteData.SubCommands {
		items[item.Trigger] = item
	}
	for _, s := range subcommands {
		if s.help == "" {
			t.Errorf("%s: no help line", s.syntax())
		}
		if line := "* `" + s.syntax() + "` — " + s.help + "\n"; !strings.Contains(helpText, line) {
			t.Errorf("the help lacks %q", line)
		}
		item := items[s.name]
		if item == nil {
			t.Errorf("%s: not in the autocomplete", s.syntax())
			continue
		}
		if first, _ := findSubcommand(s.name, nil); first != nil && first.admin && item.RoleID != model.SystemAdminRoleId {
			t.Errorf("%s: admin-only, but the autocomplete shows it to everyone", s.name)
		}
		if !strings.Contains(newCommand().AutoCompleteDesc, s.name) {
			t.Errorf("%s: not in the command's description", s.name)
		}
	}
}

// Two forms of a name never take the same number of arguments, so the
// order of the table does not matter, and only a name's first form carries
// its autocomplete item and usage.
func TestSubcommandFormsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range subcommands {
		key := fmt.Sprintf("%s/%d", s.name, len(s.args))
		if seen[key] {
			t.Errorf("two forms of %s take %d arguments", s.name, len(s.args))
		}
		first := !seen[s.name]
		seen[key], seen[s.name] = true, true
		if first != (s.menu != nil) {
			t.Errorf("%s: the autocomplete item must be on the name's first form, and only there", s.syntax())
		}
		if !first && (s.usage != "" || s.usageHelp) {
			t.Errorf("%s: a usage on a form other than the name's first is never shown", s.syntax())
		}
	}
}

// Arguments that fit no form of a name (too few, too many, or a word where
// a @mention or a keyword belongs) get the name's usage, or the help.
func TestWrongArgumentsGetTheUsage(t *testing.T) {
	p := &Plugin{} // no service: the usage is answered before any
	usages := map[string]string{"email": reply.EmailUsage + "\n\n" + helpText, "link": reply.LinkUsage, "migrate-domain": reply.MigrateDomainUsage, "migrate": reply.MigrateUsage}
	for _, s := range subcommands {
		want, ok := usages[s.name]
		if !ok {
			want = helpText
		}
		var calls []string
		for n := 0; n <= 3; n++ {
			if !takesCount(s.name, n) {
				calls = append(calls, strings.TrimSpace("/account "+s.name+strings.Repeat(" x@example.org", n)))
			}
		}
		if misfit := misfitArgs(s); misfit != nil {
			calls = append(calls, "/account "+s.name+" "+strings.Join(misfit, " "))
		}
		for _, line := range calls {
			resp, _ := p.ExecuteCommand(nil, &model.CommandArgs{Command: line, UserId: "u1"})
			if resp.Text != want {
				t.Errorf("%s: reply %.80q, want the usage %.80q", line, resp.Text, want)
			}
		}
	}
}

// These forms, and only these, are for system admins; the value says
// whether a refusal adds "Nothing was changed.".
var adminForms = map[string]bool{
	"/account email @user <new-address>":                  true,
	"/account status @user":                               false,
	"/account link-all":                                   true,
	"/account link-all unverified":                        true,
	"/account zulip check":                                false,
	"/account drift":                                      false,
	"/account migrate-domain <old-domain> <new-domain>":   false,
	"/account migrate <status|start|pause|resume|cancel>": true,
}

func TestTheAdminFormsAreTheAdminsOnes(t *testing.T) {
	n := 0
	for _, s := range subcommands {
		if s.admin {
			n++
		}
		if changes, ok := adminForms[s.syntax()]; ok != s.admin || ok && changes != s.changes {
			t.Errorf("%s: admin %v, says nothing was changed %v", s.syntax(), s.admin, s.changes)
		}
	}
	if n != len(adminForms) {
		t.Errorf("%d admin-only forms in the table, want %d", n, len(adminForms))
	}
}

// Admin-only forms refuse a user who is not a system admin, before the
// handler runs, and change nothing.
func TestAdminFormsRefuseNonAdmins(t *testing.T) {
	for _, s := range subcommands {
		if !s.admin {
			continue
		}
		t.Run(s.syntax(), func(t *testing.T) {
			b := newAdminBed(t, true)
			b.api.On("GetSession", "s-bob").Return(&model.Session{Id: "s-bob", UserId: bobID}, nil)
			line := "/account " + s.name + " " + strings.Join(fittingArgs(s), " ")
			resp, _ := b.p.ExecuteCommand(&plugin.Context{SessionId: "s-bob"}, &model.CommandArgs{UserId: bobID, Command: line})
			if !strings.Contains(resp.Text, "Only system administrators can run this") {
				t.Errorf("%s by a user: %s", line, resp.Text)
			}
			if strings.HasSuffix(resp.Text, "Nothing was changed.") != s.changes {
				t.Errorf("%s by a user: %s (says nothing was changed: want %v)", line, resp.Text, s.changes)
			}
			if b.email(bossID) != "boss@example.org" || b.email(bobID) != "bob@example.org" {
				t.Errorf("%s by a user changed an email", line)
			}
			b.api.AssertNotCalled(t, "UpdateUser", mock.Anything)
			b.api.AssertNotCalled(t, "GetUserByUsername", mock.Anything)
		})
	}
}

func takesCount(name string, n int) bool {
	for _, s := range subcommands {
		if s.name == name && len(s.args) == n {
			return true
		}
	}
	return false
}

// fittingArgs are arguments the form takes: the admin's own mention
// stands for "@user".
func fittingArgs(s subcommand) []string {
	args := make([]string, len(s.args))
	for i, a := range s.args {
		switch {
		case strings.HasPrefix(a, "<"):
			args[i] = "mallory@example.org"
		case strings.HasPrefix(a, "@"):
			args[i] = "@boss"
		default:
			args[i] = strings.ToUpper(a) // keywords are read in any case
		}
	}
	return args
}

// misfitArgs are the form's number of arguments with a plain word where a
// @mention or a keyword belongs, or nil when it takes any words.
func misfitArgs(s subcommand) []string {
	args, misfit := fittingArgs(s), false
	for i, a := range s.args {
		if !strings.HasPrefix(a, "<") {
			args[i], misfit = "x", true
		}
	}
	if !misfit {
		return nil
	}
	return args
}
