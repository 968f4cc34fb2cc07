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
	link := model.NewAutocompleteData("link", "<zulip-address> | <code>", "Link your Zulip account: get a code in Zulip, then type it here")
	link.AddTextArgument("Your Zulip address, or the code the sync bot sent you", "<zulip-address> | <code>", "")
	ac.AddCommand(link)
	ac.AddCommand(model.NewAutocompleteData("status", "", "Show where your latest email change stands"))
	ac.AddCommand(model.NewAutocompleteData("cancel", "", "Cancel your email change if it has not changed anything yet"))
	ac.AddCommand(model.NewAutocompleteData("unlink", "", "Remove the link to your Zulip account"))
	linkAll := model.NewAutocompleteData("link-all", "[unverified]", "Link every user whose verified email is the same in both systems (system admins)")
	linkAll.RoleID = model.SystemAdminRoleId
	ac.AddCommand(linkAll)
	zulipCheck := model.NewAutocompleteData("zulip", "check", "Check the connection to Zulip and say what to fix (system admins)")
	zulipCheck.RoleID = model.SystemAdminRoleId
	ac.AddCommand(zulipCheck)
	ac.AddCommand(model.NewAutocompleteData("help", "", "Show how to use /account"))
	return &model.Command{
		Trigger:          commandTrigger,
		DisplayName:      "Account Sync",
		Description:      "Change your email in Mattermost and Zulip at once.",
		AutoComplete:     true,
		AutoCompleteDesc: "Available commands: email, status, cancel, link, unlink, link-all, zulip check, help",
		AutoCompleteHint: "[command]",
		AutocompleteData: ac,
	}
}

// ExecuteCommand routes /account subcommands. Every reply is ephemeral.
func (p *Plugin) ExecuteCommand(c *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	fields := strings.Fields(args.Command)
	if len(fields) < 2 {
		return ephemeral(helpText), nil
	}
	sub, rest := strings.ToLower(fields[1]), fields[2:]
	switch {
	case sub == "email" && len(rest) == 1:
		return ephemeral(p.commandEmail(args.UserId, sessionID(c), rest[0])), nil
	case sub == "email" && len(rest) == 2 && strings.HasPrefix(rest[0], "@"):
		return ephemeral(p.commandEmailFor(args.UserId, sessionID(c), rest[0], rest[1])), nil
	case sub == "status" && len(rest) == 1 && strings.HasPrefix(rest[0], "@"):
		return ephemeral(p.commandStatusFor(args.UserId, sessionID(c), rest[0])), nil
	case sub == "zulip" && len(rest) == 1 && strings.EqualFold(rest[0], "check"):
		return ephemeral(p.commandZulipCheck(args.UserId, sessionID(c))), nil
	case sub == "email":
		return ephemeral(emailUsageText + "\n\n" + helpText), nil
	case sub == "link" && len(rest) == 1:
		return ephemeral(p.commandLink(args.UserId, sessionID(c), rest[0])), nil
	case sub == "link":
		return ephemeral(linkUsageText), nil
	case sub == "status" && len(rest) == 0:
		return ephemeral(p.commandStatus(args.UserId)), nil
	case sub == "cancel" && len(rest) == 0:
		return ephemeral(p.commandCancel(args.UserId, sessionID(c))), nil
	case sub == "unlink" && len(rest) == 0:
		return ephemeral(p.commandUnlink(args.UserId, sessionID(c))), nil
	case sub == "link-all" && len(rest) == 0:
		return ephemeral(p.commandLinkAll(args.UserId, sessionID(c), false)), nil
	case sub == "link-all" && len(rest) == 1 && strings.EqualFold(rest[0], "unverified"):
		return ephemeral(p.commandLinkAll(args.UserId, sessionID(c), true)), nil
	default:
		return ephemeral(helpText), nil // help, and anything unknown
	}
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
