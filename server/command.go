package main

import (
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

const commandTrigger = "account"

// newCommand describes /account with its autocomplete.
func newCommand() *model.Command {
	ac := model.NewAutocompleteData(commandTrigger, "[command]", "Manage your account in Mattermost and Zulip")
	email := model.NewAutocompleteData("email", "<new-address>", "Change your email in Mattermost and Zulip")
	email.AddTextArgument("Your new email address", "<new-address>", "")
	ac.AddCommand(email)
	ac.AddCommand(model.NewAutocompleteData("help", "", "Show how to use /account"))
	return &model.Command{
		Trigger:          commandTrigger,
		DisplayName:      "Account Sync",
		Description:      "Change your email in Mattermost and Zulip at once.",
		AutoComplete:     true,
		AutoCompleteDesc: "Available commands: email, help",
		AutoCompleteHint: "[command]",
		AutocompleteData: ac,
	}
}

// ExecuteCommand routes /account subcommands. Every reply is ephemeral.
func (p *Plugin) ExecuteCommand(_ *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	fields := strings.Fields(args.Command)
	if len(fields) < 2 {
		return ephemeral(helpText), nil
	}
	if strings.ToLower(fields[1]) != "email" {
		return ephemeral(helpText), nil // help, and anything unknown
	}
	if len(fields) != 3 {
		return ephemeral(emailUsageText + "\n\n" + helpText), nil
	}
	return ephemeral(p.commandEmail(args.UserId, fields[2])), nil
}

func ephemeral(text string) *model.CommandResponse {
	return &model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral, Text: text, Username: "Account Sync"}
}
