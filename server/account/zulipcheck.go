package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// CheckLine is one finding of /account zulip check.
type CheckLine struct {
	OK   bool
	Text string
}

// ZulipCheck is what /account zulip check found, in order; it stops at the
// first finding that makes the next checks meaningless.
type ZulipCheck struct {
	Lines   []CheckLine
	Failure *Failure // the caller may not run it
}

// CheckZulip diagnoses the Zulip connection for an admin: the settings, the
// server and its version, the bot's credentials and role, and (harmlessly:
// a PATCH of the bot's own address to itself) its permission to change
// emails. configProblem is what the plugin found wrong in the settings.
func (s *Service) CheckZulip(ctx context.Context, adminID, sessionID, botEmail, configProblem string) ZulipCheck {
	if f := s.adminGate(adminID, sessionID); f != nil {
		return ZulipCheck{Failure: f}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	var c ZulipCheck
	ok := func(format string, a ...any) { c.Lines = append(c.Lines, CheckLine{true, fmt.Sprintf(format, a...)}) }
	bad := func(format string, a ...any) ZulipCheck {
		c.Lines = append(c.Lines, CheckLine{false, fmt.Sprintf(format, a...)})
		return c
	}
	if invalid := s.opts.AllowedDomainsInvalid; len(invalid) > 0 {
		// Not about Zulip, but it stops every change: said first, and the
		// Zulip checks still run.
		c.Lines = append(c.Lines, CheckLine{false, domainsInvalidText(invalid)})
	}
	switch {
	case !s.opts.SyncZulip:
		return bad("Zulip sync is turned off: only Mattermost changes. Turn on **Sync email changes to Zulip** (System Console > Plugins > Account Sync) to use Zulip.")
	case s.zc == nil:
		return bad("The Zulip settings cannot work: %s. Fix them in System Console > Plugins > Account Sync.", configProblem)
	}
	ok("The settings are complete.")

	settings, err := s.zc.ServerSettings(ctx)
	if err != nil {
		return bad("%s", reachText(err))
	}
	if settings.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
		return bad("Zulip %s (feature level %d) is too old: changing emails through the API needs Zulip 10.0 (feature level %d) or later. Upgrade Zulip, or turn sync off.",
			code(settings.Version), settings.FeatureLevel, zulip.MinEmailChangeFeatureLevel)
	}
	ok("Reached Zulip %s (feature level %d).", code(settings.Version), settings.FeatureLevel)

	me, err := s.zc.Me(ctx)
	switch {
	case zulip.ReasonOf(err) == zulip.ReasonUnauthorized:
		return bad("Zulip did not accept the bot email and API key (or the bot is deactivated). Copy both again from Zulip's *Settings > Personal settings > Bots*.")
	case err != nil:
		return bad("%s", reachText(err))
	}
	addr := me.RealAddress()
	if addr == "" {
		addr = botEmail
	}
	ok("Signed in to Zulip as %s.", code(addr))
	if me.Role != zulip.RoleOwner && me.Role != zulip.RoleAdmin {
		return bad("The bot's role is %s: an organization owner must give it the **Administrator** or **Owner** role (*Organization settings > Bots*, edit the bot, *Role*).", roleName(me.Role))
	}
	ok("The bot's role is %s.", roleName(me.Role))

	err = s.zc.ChangeEmailByID(ctx, me.ID, addr)
	switch {
	case err == nil:
		ok("The bot may change users' emails (checked with a change of its own address to itself, which changes nothing).")
	case zulip.ReasonOf(err) == zulip.ReasonCannotChangeEmails:
		return bad("The bot lacks Zulip's permission to change emails. A Zulip server administrator runs, on the Zulip server: `./manage.py change_user_role %s can_change_user_emails -r <realm>` (the realm is the organization's subdomain; empty for the root domain).", addr)
	case zulip.ReasonOf(err) == zulip.ReasonInsufficientPermission:
		return bad("Zulip says the bot may not administer users: give it the **Administrator** or **Owner** role.")
	case errors.Is(err, zulip.ErrEmailIgnored):
		return bad("This Zulip ignores email changes through the API: it needs Zulip 10.0 (feature level %d) or later.", zulip.MinEmailChangeFeatureLevel)
	default:
		return bad("%s", reachText(err))
	}
	return c
}

// domainsInvalidText explains an unusable Allowed email domains setting.
func domainsInvalidText(bad []string) string {
	entries := make([]string, len(bad))
	for i, b := range bad {
		entries[i] = code(b)
	}
	return fmt.Sprintf("The **Allowed email domains** setting is invalid: %s %s, so every email change is refused. "+
		"Correct it in System Console > Plugins > Account Sync: a comma-separated list of domains such as `example.org, example.com`, or empty to allow any domain.",
		strings.Join(entries, ", "), plural(len(bad), "is not a domain", "are not domains"))
}

// reachText explains a failed request for an admin.
func reachText(err error) string {
	var re *zulip.RedirectError
	switch {
	case errors.As(err, &re):
		return fmt.Sprintf("Zulip answered with a redirect to %s: set the Zulip site URL to the final address (redirects are never followed, so the bot's key never travels elsewhere).", code(re.TargetScheme+"://"+re.TargetHost))
	case zulip.IsTransient(err):
		return "Zulip could not be reached or did not answer in time: check the Zulip site URL and that the Mattermost server can reach it. Details are in the server log."
	default:
		return "Zulip refused the request: check the Zulip site URL (it must be the organization's address). Details are in the server log."
	}
}

func roleName(role int) string {
	switch role {
	case zulip.RoleOwner:
		return "Owner"
	case zulip.RoleAdmin:
		return "Administrator"
	case 300:
		return "Moderator"
	case 400:
		return "Member"
	case 600:
		return "Guest"
	default:
		return fmt.Sprintf("%d", role)
	}
}

// Report renders the check as a checklist.
func (c ZulipCheck) Report() string {
	if c.Failure != nil {
		return Result{Failure: c.Failure}.failureText(c.Failure)
	}
	var b []byte
	b = append(b, "#### Zulip connection check\n"...)
	allOK := true
	for _, l := range c.Lines {
		mark := ":white_check_mark:"
		if !l.OK {
			mark, allOK = ":x:", false
		}
		b = append(b, fmt.Sprintf("%s %s\n", mark, l.Text)...)
	}
	if allOK {
		b = append(b, "\nEverything needed to change emails in Zulip works."...)
	}
	return string(b)
}
