package main

import (
	"sync/atomic"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// mattermostCalls counts the Mattermost adapter's calls to the server
// (plugin API round trips) on this node since the plugin process started,
// by kind: one atomic add next to each round trip. The scan logs what it
// spent. KV store calls go through the store, not the adapter, and are not
// counted here.
var mattermostCalls callCounter

// callCounter holds the counts; callTally is a snapshot of them.
type callCounter struct {
	userReads, userPages, userUpdates, permissions, sessions, config atomic.Int64
	logs, audits                                                     atomic.Int64
}

// callTally is the adapter's calls by kind.
type callTally struct {
	UserReads   int64 // GetUser, GetUserByEmail
	UserPages   int64 // GetUsers: one page of users
	UserUpdates int64 // UpdateUser
	Permissions int64 // HasPermissionTo
	Sessions    int64 // GetSession
	Config      int64 // GetConfig
	Logs        int64 // log lines of the flow and the audit (each a call to the server)
	Audits      int64 // LogAuditRec (servers from 10.10)
}

func (c *callCounter) tally() callTally {
	return callTally{
		UserReads: c.userReads.Load(), UserPages: c.userPages.Load(), UserUpdates: c.userUpdates.Load(),
		Permissions: c.permissions.Load(), Sessions: c.sessions.Load(), Config: c.config.Load(),
		Logs: c.logs.Load(), Audits: c.audits.Load(),
	}
}

// since is what was counted after before was taken.
func (t callTally) since(before callTally) callTally {
	return callTally{
		UserReads: t.UserReads - before.UserReads, UserPages: t.UserPages - before.UserPages,
		UserUpdates: t.UserUpdates - before.UserUpdates, Permissions: t.Permissions - before.Permissions,
		Sessions: t.Sessions - before.Sessions, Config: t.Config - before.Config,
		Logs: t.Logs - before.Logs, Audits: t.Audits - before.Audits,
	}
}

func (t callTally) total() int64 {
	return t.UserReads + t.UserPages + t.UserUpdates + t.Permissions + t.Sessions + t.Config
}

// counted wraps the adapter's services so that every call is counted in c.
func counted(a *mattermostAdapter, c *callCounter) *mattermostAdapter {
	return &mattermostAdapter{
		users:    countedUsers{userService: a.users, c: c},
		sessions: countedSessions{sessionService: a.sessions, c: c},
		config:   countedConfig{configService: a.config, c: c},
	}
}

type countedUsers struct {
	userService
	c *callCounter
}

func (u countedUsers) Get(userID string) (*model.User, error) {
	u.c.userReads.Add(1)
	return u.userService.Get(userID)
}

func (u countedUsers) GetByEmail(email string) (*model.User, error) {
	u.c.userReads.Add(1)
	return u.userService.GetByEmail(email)
}

func (u countedUsers) List(options *model.UserGetOptions) ([]*model.User, error) {
	u.c.userPages.Add(1)
	return u.userService.List(options)
}

func (u countedUsers) Update(user *model.User) error {
	u.c.userUpdates.Add(1)
	return u.userService.Update(user)
}

func (u countedUsers) HasPermissionTo(userID string, permission *model.Permission) bool {
	u.c.permissions.Add(1)
	return u.userService.HasPermissionTo(userID, permission)
}

type countedSessions struct {
	sessionService
	c *callCounter
}

func (s countedSessions) Get(sessionID string) (*model.Session, error) {
	s.c.sessions.Add(1)
	return s.sessionService.Get(sessionID)
}

type countedConfig struct {
	configService
	c *callCounter
}

func (g countedConfig) GetConfig() *model.Config {
	g.c.config.Add(1)
	return g.configService.GetConfig()
}

// countedLog counts the flow's log lines in c.
type countedLog struct {
	account.Logger
	c *callCounter
}

func (l countedLog) Info(msg string, kv ...any) {
	l.c.logs.Add(1)
	l.Logger.Info(msg, kv...)
}

func (l countedLog) Warn(msg string, kv ...any) {
	l.c.logs.Add(1)
	l.Logger.Warn(msg, kv...)
}

func (l countedLog) Error(msg string, kv ...any) {
	l.c.logs.Add(1)
	l.Logger.Error(msg, kv...)
}
