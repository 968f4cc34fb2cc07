package main

import (
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

func TestCommandHelpPaths(t *testing.T) {
	p := &Plugin{}
	tests := []struct {
		command string
		want    string
	}{
		{"/account", "#### Account Sync"},
		{"/account help", "#### Account Sync"},
		{"/account HELP", "#### Account Sync"},
		{"/account frobnicate", "#### Account Sync"},
		{"/account email", "Please give exactly one new address"},
		{"/account email a@example.org b@example.org", "Please give exactly one new address"},
		{"/account link", "Please give your Zulip address"},
		{"/account link a@example.org 123456", "Please give your Zulip address"},
		{"/account unlink now", "#### Account Sync"},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			resp, appErr := p.ExecuteCommand(nil, &model.CommandArgs{Command: tc.command, UserId: "u1"})
			if appErr != nil {
				t.Fatal(appErr)
			}
			if resp.ResponseType != model.CommandResponseTypeEphemeral {
				t.Errorf("response type %q, want ephemeral", resp.ResponseType)
			}
			if !strings.Contains(resp.Text, tc.want) {
				t.Errorf("reply %q lacks %q", resp.Text, tc.want)
			}
		})
	}
}

func TestAutocompleteListsSubcommands(t *testing.T) {
	cmd := newCommand()
	if cmd.Trigger != "account" || !cmd.AutoComplete || cmd.AutocompleteData == nil {
		t.Fatalf("command %+v", cmd)
	}
	var names []string
	for _, sub := range cmd.AutocompleteData.SubCommands {
		names = append(names, sub.Trigger)
	}
	if strings.Join(names, ",") != "email,link,status,cancel,unlink,link-all,zulip,drift,migrate-domain,migrate,help" {
		t.Errorf("subcommands %v", names)
	}
	if err := cmd.AutocompleteData.IsValid(); err != nil {
		t.Errorf("autocomplete data invalid: %v", err)
	}
}
