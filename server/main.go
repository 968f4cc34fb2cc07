package main

import "github.com/mattermost/mattermost/server/public/plugin"

func main() { plugin.ClientMain(&Plugin{}) }
