package account

import (
	"context"
	"errors"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// Finding is one thing /account zulip check found; the edge words it from
// the line's facts.
type Finding string

// What /account zulip check can find, in the order it looks.
const (
	FindingDomainsInvalid    Finding = "domains_invalid"     // Entries: the allowed-domains entries that are not domains
	FindingSyncOff           Finding = "sync_off"            // Zulip sync is turned off
	FindingSettingsBroken    Finding = "settings_broken"     // Detail: what the plugin found wrong in the settings
	FindingSettingsComplete  Finding = "settings_complete"   // the settings are complete
	FindingRedirect          Finding = "redirect"            // Detail: where Zulip redirected to (scheme://host)
	FindingUnreachable       Finding = "unreachable"         // Zulip could not be reached, or did not answer in time
	FindingRefused           Finding = "refused"             // Zulip refused a request
	FindingTooOld            Finding = "too_old"             // Version, Level: Zulip cannot change emails through its API
	FindingReached           Finding = "reached"             // Version, Level
	FindingBadCredentials    Finding = "bad_credentials"     // the bot email and API key were not accepted
	FindingSignedIn          Finding = "signed_in"           // Detail: the bot's address
	FindingRoleTooLow        Finding = "role_too_low"        // Role: the bot is neither administrator nor owner
	FindingRoleOK            Finding = "role_ok"             // Role
	FindingMayChangeEmails   Finding = "may_change_emails"   // the harmless probe passed
	FindingNoEmailPermission Finding = "no_email_permission" // Detail: the bot's address
	FindingNotUserAdmin      Finding = "not_user_admin"      // Zulip says the bot may not administer users
	FindingEmailIgnored      Finding = "email_ignored"       // Zulip ignores email changes through the API
)

// Findings lists every finding, for the edge's table of texts.
func Findings() []Finding {
	return []Finding{
		FindingDomainsInvalid, FindingSyncOff, FindingSettingsBroken, FindingSettingsComplete, FindingRedirect,
		FindingUnreachable, FindingRefused, FindingTooOld, FindingReached, FindingBadCredentials, FindingSignedIn,
		FindingRoleTooLow, FindingRoleOK, FindingMayChangeEmails, FindingNoEmailPermission, FindingNotUserAdmin, FindingEmailIgnored,
	}
}

// CheckLine is one finding of /account zulip check and its facts.
type CheckLine struct {
	OK      bool
	Finding Finding
	Detail  string   // an address, what is wrong in the settings, a redirect's target
	Version string   // Zulip's version, as it says
	Level   int      // Zulip's API feature level
	Role    int      // the bot's role in Zulip
	Entries []string // the allowed-domains entries that are not domains
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
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return ZulipCheck{Failure: f}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FlowTimeout)
	defer cancel()
	var c ZulipCheck
	ok := func(l CheckLine) {
		l.OK = true
		c.Lines = append(c.Lines, l)
	}
	bad := func(l CheckLine) ZulipCheck {
		c.Lines = append(c.Lines, l)
		return c
	}
	if invalid := s.opts.AllowedDomainsInvalid; len(invalid) > 0 {
		// Not about Zulip, but it stops every change: said first, and the
		// Zulip checks still run.
		c.Lines = append(c.Lines, CheckLine{Finding: FindingDomainsInvalid, Entries: invalid})
	}
	switch {
	case !s.opts.SyncZulip:
		return bad(CheckLine{Finding: FindingSyncOff})
	case s.zc == nil:
		return bad(CheckLine{Finding: FindingSettingsBroken, Detail: configProblem})
	}
	ok(CheckLine{Finding: FindingSettingsComplete})

	settings, err := s.zc.ServerSettings(ctx)
	if err != nil {
		return bad(reachFinding(err))
	}
	version := CheckLine{Version: settings.Version, Level: settings.FeatureLevel}
	if settings.FeatureLevel < zulip.MinEmailChangeFeatureLevel {
		version.Finding = FindingTooOld
		return bad(version)
	}
	version.Finding = FindingReached
	ok(version)

	me, err := s.zc.Me(ctx)
	switch {
	case zulip.ReasonOf(err) == zulip.ReasonUnauthorized:
		return bad(CheckLine{Finding: FindingBadCredentials})
	case err != nil:
		return bad(reachFinding(err))
	}
	addr := me.RealAddress()
	if addr == "" {
		addr = botEmail
	}
	ok(CheckLine{Finding: FindingSignedIn, Detail: addr})
	if me.Role != zulip.RoleOwner && me.Role != zulip.RoleAdmin {
		return bad(CheckLine{Finding: FindingRoleTooLow, Role: me.Role})
	}
	ok(CheckLine{Finding: FindingRoleOK, Role: me.Role})

	err = s.zc.ChangeEmailByID(ctx, me.ID, addr)
	switch {
	case err == nil:
		ok(CheckLine{Finding: FindingMayChangeEmails})
	case zulip.ReasonOf(err) == zulip.ReasonCannotChangeEmails:
		return bad(CheckLine{Finding: FindingNoEmailPermission, Detail: addr})
	case zulip.ReasonOf(err) == zulip.ReasonInsufficientPermission:
		return bad(CheckLine{Finding: FindingNotUserAdmin})
	case errors.Is(err, zulip.ErrEmailIgnored):
		return bad(CheckLine{Finding: FindingEmailIgnored})
	default:
		return bad(reachFinding(err))
	}
	return c
}

// reachFinding is why a request to Zulip failed, for an admin.
func reachFinding(err error) CheckLine {
	var re *zulip.RedirectError
	switch {
	case errors.As(err, &re):
		return CheckLine{Finding: FindingRedirect, Detail: re.TargetScheme + "://" + re.TargetHost}
	case zulip.IsTransient(err):
		return CheckLine{Finding: FindingUnreachable}
	default:
		return CheckLine{Finding: FindingRefused}
	}
}
