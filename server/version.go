package main

// buildVersion is set by the Makefile from plugin.json (-ldflags -X).
var buildVersion = "dev"

func userAgent() string { return "AccountSync/" + buildVersion + " (Mattermost plugin)" }
