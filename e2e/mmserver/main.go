// Command mattermost is the Mattermost server (team edition) built from the Go
// module proxy for the end-to-end test bed. It is the server's own
// cmd/mattermost/main.go without the private enterprise imports.
package main

import (
	"os"

	"github.com/mattermost/mattermost/server/v8/cmd/mattermost/commands"
	// Register the app layer's slash commands, as the real binary does.
	_ "github.com/mattermost/mattermost/server/v8/channels/app/slashcommands"
	// The GitLab OAuth provider, as the real binary has it.
	_ "github.com/mattermost/mattermost/server/v8/channels/app/oauthproviders/gitlab"
)

func main() {
	if err := commands.Run(os.Args[1:]); err != nil {
		os.Exit(1)
	}
}
