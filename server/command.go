package main

import (
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

const commandTrigger = "account"

// commandCall is one /account call: who typed it, from which session, and
// the words after the subcommand's name.
type commandCall struct {
	userID, sessionID string
	args              []string
}

// newCommand describes /account with its autocomplete, one item per
// subcommand name of the table.
func newCommand() *model.Command {
	ac := model.NewAutocompleteData(commandTrigger, "[command]", "Manage your account in Mattermost and Zulip")
	for _, s := range subcommands {
		if s.menu == nil {
			continue
		}
		item := model.NewAutocompleteData(s.name, s.menu.hint, s.menu.desc)
		if s.menu.argHelp != "" {
			item.AddTextArgument(s.menu.argHelp, s.menu.hint, "")
		}
		if s.admin {
			item.RoleID = model.SystemAdminRoleId
		}
		ac.AddCommand(item)
	}
	return &model.Command{
		Trigger:          commandTrigger,
		DisplayName:      "Account Sync",
		Description:      "Change your email in Mattermost and Zulip at once.",
		AutoComplete:     true,
		AutoCompleteDesc: "Available commands: " + commandNames,
		AutoCompleteHint: "[command]",
		AutocompleteData: ac,
	}
}

// ExecuteCommand answers /account. Every reply is ephemeral.
func (p *Plugin) ExecuteCommand(c *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	fields := strings.Fields(args.Command)
	if len(fields) < 2 {
		return ephemeral(helpText), nil
	}
	call := commandCall{userID: args.UserId, sessionID: sessionID(c), args: fields[2:]}
	return ephemeral(p.dispatch(strings.ToLower(fields[1]), call)), nil
}

// dispatch runs the subcommand's form that fits the call's arguments: an
// unknown name gets the help, arguments no form fits get the name's usage,
// and an admin-only form goes through the admin gate first.
func (p *Plugin) dispatch(name string, call commandCall) string {
	sc, first := findSubcommand(name, call.args)
	switch {
	case sc == nil:
		return usageReply(first)
	case sc.run == nil:
		return helpText
	}
	if sc.admin {
		if f := p.service().CheckAdmin(call.userID, call.sessionID); f != nil {
			return reply.Refusal(f, sc.changes)
		}
	}
	return sc.run(p, call)
}

func sessionID(c *plugin.Context) string {
	if c == nil {
		return ""
	}
	return c.SessionId
}

func ephemeral(text string) *model.CommandResponse {
	return &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: text, Username: "Account Sync"}
}
