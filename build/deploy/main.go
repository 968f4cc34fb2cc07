// Command deploy uploads a plugin bundle to a Mattermost server and enables
// it, over the REST API. It reads MM_SERVICESETTINGS_SITEURL and
// MM_ADMIN_TOKEN (a system admin's personal access token).
//
//	go run ./build/deploy <plugin-id> <bundle.tar.gz>
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: deploy <plugin-id> <bundle.tar.gz>")
	}
	id, bundle := args[0], args[1]
	site := strings.TrimRight(os.Getenv("MM_SERVICESETTINGS_SITEURL"), "/")
	token := os.Getenv("MM_ADMIN_TOKEN")
	if site == "" || token == "" {
		return fmt.Errorf("set MM_SERVICESETTINGS_SITEURL (e.g. https://chat.example.org) and MM_ADMIN_TOKEN (a system admin's access token)")
	}
	f, err := os.Open(bundle)
	if err != nil {
		return fmt.Errorf("opening the bundle (run make dist first): %w", err)
	}
	defer f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := model.NewAPIv4Client(site)
	client.SetToken(token)
	if _, _, err := client.UploadPluginForced(ctx, f); err != nil {
		return fmt.Errorf("uploading %s to %s (are plugin uploads enabled, PluginSettings.EnableUploads?): %w", bundle, site, err)
	}
	if _, err := client.EnablePlugin(ctx, id); err != nil {
		return fmt.Errorf("enabling %s: %w", id, err)
	}
	fmt.Printf("deployed %s to %s\n", id, site)
	return nil
}
