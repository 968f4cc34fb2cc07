package main

const helpText = "#### Account Sync\n" +
	"Change your email in Mattermost and in Zulip with one command:\n\n" +
	"* `/account email <new-address>` — change your email to `<new-address>` (just the address, for example `/account email ann@example.org`).\n" +
	"* `/account help` — show this help.\n\n" +
	"Both systems are checked before anything changes. If Zulip does not take the change, your Mattermost email is put back, so the two never end up different."

const emailUsageText = "Please give exactly one new address, for example `/account email ann@example.org`."
