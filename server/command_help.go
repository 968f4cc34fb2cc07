package main

const helpText = "#### Account Sync\n" +
	"Change your email in Mattermost and in Zulip with one command:\n\n" +
	"* `/account email <new-address>` — change your email to `<new-address>` (just the address, for example `/account email ann@example.org`).\n" +
	"* `/account status` — show where your latest email change stands.\n" +
	"* `/account cancel` — cancel your email change while it has not changed anything yet.\n" +
	"* `/account link <your-zulip-address>` — link your Zulip account: the sync bot sends you a code in Zulip; then type `/account link <code>` here. " +
	"Needed once, unless your verified Mattermost email already is your Zulip email.\n" +
	"* `/account unlink` — remove the link to your Zulip account.\n" +
	"* `/account link-all [unverified]` — (system admins) link every user whose verified email is the same in both systems; `unverified` trusts unverified emails too (only where a directory sets them).\n" +
	"* `/account help` — show this help.\n" +
	"* System admins: `/account email @user <new-address>` changes another user's email (they get a direct message), `/account status @user` shows theirs, `/account zulip check` checks the connection to Zulip.\n\n" +
	"Only the Zulip account linked to yours is ever changed. Both systems are checked before anything changes. " +
	"If Zulip cannot be reached, the change is saved and made later in both systems or not at all, and the Account Sync bot sends you a direct message. " +
	"If Zulip refuses the change, your Mattermost email is put back, so the two never end up different."

const emailUsageText = "Please give exactly one new address, for example `/account email ann@example.org`."

const linkUsageText = "Please give your Zulip address, for example `/account link ann@example.org`, or the 6-digit code the sync bot sent you in Zulip, for example `/account link 123456`."
