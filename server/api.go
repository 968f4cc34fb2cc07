package main

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime/debug"

	"github.com/gorilla/mux"
	"github.com/mattermost/mattermost/server/public/plugin"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// maxBodyBytes bounds a request body; larger ones get 413.
const maxBodyBytes = 4 << 10

// newRouter serves the plugin's HTTP API under /plugins/{id}/api/v1. Every
// route passes the chain: panic recovery, a Mattermost login, the session
// gate (the same as the slash command's); admin routes pass the admin
// commands' gate instead.
func (p *Plugin) newRouter() *mux.Router {
	r := mux.NewRouter()
	r.Use(p.recoverMiddleware)
	// Routes sit on the root router, each behind the chain (a subrouter
	// would answer a wrong method with 404 instead of 405).
	user := func(h http.HandlerFunc) http.Handler { return requireUser(p.sessionGate(h)) }
	admin := func(h http.HandlerFunc) http.Handler { return requireUser(p.requireSystemAdmin(h)) }
	const v1 = "/api/v1"
	r.Handle(v1+"/email", user(p.handleChangeEmail)).Methods(http.MethodPost)
	r.Handle(v1+"/status", user(p.handleStatus)).Methods(http.MethodGet)
	r.Handle(v1+"/me/changes/latest", user(p.handleStatus)).Methods(http.MethodGet)
	r.Handle(v1+"/me/link", user(p.handleLink)).Methods(http.MethodGet)
	r.Handle(v1+"/users/{user_id:[a-z0-9]{26}}/email", admin(p.handleAdminChangeEmail)).Methods(http.MethodPost)
	r.Handle(v1+"/users/{user_id:[a-z0-9]{26}}/status", admin(p.handleAdminStatus)).Methods(http.MethodGet)
	r.Handle(v1+"/changes", admin(p.handleListChanges)).Methods(http.MethodGet)
	r.Handle(v1+driftPath, admin(p.handleDrift)).Methods(http.MethodGet)
	r.Handle(v1+driftCSVPath, admin(p.handleDriftCSV)).Methods(http.MethodGet)
	r.Handle(v1+migrationsPath, admin(p.handlePlanMigration)).Methods(http.MethodPost)
	r.Handle(v1+migrationsPath+"/{id}", admin(p.handleMigration)).Methods(http.MethodGet)
	r.Handle(v1+migrationActionPath, admin(p.handleMigrationAction)).Methods(http.MethodPost)
	r.Handle(v1+migrationReportPath, admin(p.handleMigrationReport)).Methods(http.MethodGet)
	// The plan's Start button: the presser passes the admin gate in the
	// service (ControlMigration), and the answer is always 200.
	r.Handle(migrationButtonPath, requireUser(http.HandlerFunc(p.handleMigrationButton))).Methods(http.MethodPost)
	// An offer's buttons: the presser's session is checked by the service
	// (AcceptOffer, KeepOffer), and the answer is always 200.
	r.Handle(offerPath, requireUser(http.HandlerFunc(p.handleOffer))).Methods(http.MethodPost)

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", reply.APINotFound)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", reply.APIMethodNotAllowed)
	})
	return r
}

type sessionKey struct{}

// withSession carries the plugin context's session id to the handlers.
func withSession(c *plugin.Context, r *http.Request) *http.Request {
	id := ""
	if c != nil {
		id = c.SessionId
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey{}, id))
}

func sessionOf(r *http.Request) string {
	id, _ := r.Context().Value(sessionKey{}).(string)
	return id
}

func userOf(r *http.Request) string { return r.Header.Get("Mattermost-User-ID") }

// requireUser lets through only requests Mattermost authenticated.
func requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if userOf(r) == "" {
			writeJSONError(w, http.StatusUnauthorized, "not_authenticated", reply.APINotLoggedIn)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionGate applies the slash command's session checks to every route.
func (p *Plugin) sessionGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := p.service().CheckSession(userOf(r), sessionOf(r)); f != nil {
			writeFailure(w, f)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSystemAdmin applies the admin commands' gate (CheckAdmin): the
// caller's own session, a system admin by the server's permission API
// (manage_system), and never an OAuth 2.0 app's session, whatever *Allow
// OAuth 2.0 apps* says (403 oauth_refused_admin): Mattermost never lets an
// OAuth app change another user's email. An admin's script uses a personal
// access token, under that setting.
func (p *Plugin) requireSystemAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := p.service().CheckAdmin(userOf(r), sessionOf(r)); f != nil {
			writeFailure(w, f)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Plugin) recoverMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				p.client.Log.Error("Account Sync: panic in an HTTP handler", "path", r.URL.Path, "panic", rec, "stack", string(debug.Stack()))
				writeJSONError(w, http.StatusInternalServerError, "internal", reply.APIInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}
