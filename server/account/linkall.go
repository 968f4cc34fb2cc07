package account

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip"
)

// SkipReason is why /account link-all left a user out; the edge words it.
type SkipReason string

// Why /account link-all left a user out.
const (
	SkipDeactivated     SkipReason = "deactivated"      // deactivated in Mattermost
	SkipUnverified      SkipReason = "unverified"       // the Mattermost email is not verified
	SkipNoZulipAccount  SkipReason = "no_zulip_account" // no active Zulip account has the address
	SkipZulipBot        SkipReason = "zulip_bot"        // the Zulip account is a bot
	SkipZulipInactive   SkipReason = "zulip_inactive"   // the Zulip account is deactivated
	SkipLinkedElsewhere SkipReason = "linked_elsewhere" // the Zulip account is linked to another Mattermost user
	SkipSaveFailed      SkipReason = "save_failed"      // the link could not be read or saved (see the log)
)

// SkipReasons lists every reason, for the edge's table of texts.
func SkipReasons() []SkipReason {
	return []SkipReason{SkipDeactivated, SkipUnverified, SkipNoZulipAccount, SkipZulipBot, SkipZulipInactive, SkipLinkedElsewhere, SkipSaveFailed}
}

// linkAllPage is how many Mattermost users are read at a time.
const linkAllPage = 200

// linkAllTimeout bounds the one Zulip call of /account link-all.
const linkAllTimeout = 2 * time.Minute

// LinkAllReport is what /account link-all did.
type LinkAllReport struct {
	Linked        int
	AlreadyLinked int
	Skipped       []SkippedUser
	Unverified    int      // skipped because the Mattermost email is not verified
	Trusted       bool     // unverified emails were linked as asked
	Failure       *Failure // set when nothing could be done
}

// SkippedUser is a Mattermost user /account link-all did not link.
type SkippedUser struct {
	Username, Email string
	Reason          SkipReason
}

// LinkAll links every Mattermost user whose email equals, ignoring case,
// the real address of an active, non-bot Zulip account, for organisations
// that provision both systems from one directory. Only system admins may
// run it. Existing links are never changed. Unverified Mattermost emails
// are skipped unless trustUnverified: any user can put someone else's
// address in their own profile when the server does not require
// verification, and a link made from it would hand them that Zulip account.
func (s *Service) LinkAll(ctx context.Context, adminID, sessionID string, trustUnverified bool) LinkAllReport {
	if f := s.CheckAdmin(adminID, sessionID); f != nil {
		return LinkAllReport{Failure: f}
	}
	if f := s.linkable(); f != nil {
		return LinkAllReport{Failure: f}
	}
	zctx, cancel := context.WithTimeout(ctx, linkAllTimeout)
	members, err := s.zc.Users(zctx)
	cancel()
	if err != nil {
		f := zulipFailure(err, CodeZulipRejected)
		s.logFailureKV("account sync: link-all could not list Zulip's users", f, "admin_id", adminID)
		return LinkAllReport{Failure: f}
	}
	byAddress := make(map[string]zulip.User, len(members))
	for _, m := range members {
		if a := m.RealAddress(); a != "" {
			byAddress[strings.ToLower(a)] = m
		}
	}

	rep := LinkAllReport{Trusted: trustUnverified}
	for page := 0; ; page++ {
		users, err := s.mm.ListUsers(page, linkAllPage)
		if err != nil {
			s.opts.Logger.Error("account sync: link-all could not list Mattermost users", "admin_id", adminID, "error", err.Error())
			if page == 0 {
				rep.Failure = newFailure(CodeMattermostFailed, err)
			}
			break
		}
		for _, u := range users {
			s.linkOne(u, adminID, byAddress, &rep)
		}
		if len(users) < linkAllPage {
			break
		}
	}
	s.opts.Logger.Info("account sync: link-all", "admin_id", adminID, "linked", rep.Linked, "already_linked", rep.AlreadyLinked, "skipped", len(rep.Skipped),
		"unverified_skipped", rep.Unverified, "trusted_unverified", trustUnverified)
	return rep
}

func (s *Service) linkOne(u User, adminID string, byAddress map[string]zulip.User, rep *LinkAllReport) {
	if u.IsBot {
		return
	}
	skip := func(reason SkipReason) {
		rep.Skipped = append(rep.Skipped, SkippedUser{Username: u.Username, Email: u.Email, Reason: reason})
	}
	if _, linked, err := s.opts.Links.Link(u.ID); err != nil {
		s.opts.Logger.Error("account sync: link-all could not read a link", "user_id", u.ID, "error", err.Error())
		skip(SkipSaveFailed)
		return
	} else if linked {
		rep.AlreadyLinked++
		return
	}
	if u.Deactivated {
		skip(SkipDeactivated)
		return
	}
	zu, ok := byAddress[strings.ToLower(u.Email)]
	switch {
	case !ok:
		skip(SkipNoZulipAccount)
		return
	case !u.EmailVerified && !rep.Trusted:
		rep.Unverified++
		skip(SkipUnverified)
		return
	case zu.IsBot:
		skip(SkipZulipBot)
		return
	case !zu.IsActive:
		skip(SkipZulipInactive)
		return
	}
	l := Link{UserID: u.ID, ZulipUserID: zu.ID, Method: LinkAdmin, LinkedBy: adminID, LinkedAt: s.opts.Now().UTC()}
	if strings.EqualFold(zu.RealAddress(), u.Email) {
		l.AgreedEmail = u.Email
	}
	err := s.opts.Links.AddLink(l)
	switch {
	case errors.Is(err, ErrAlreadyLinked):
		skip(SkipLinkedElsewhere)
	case err != nil:
		s.opts.Logger.Error("account sync: link-all could not save a link", "user_id", u.ID, "error", err.Error())
		skip(SkipSaveFailed)
	default:
		rep.Linked++
	}
}
