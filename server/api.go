package main

import (
	"encoding/json"
	"net/http"
	"runtime/debug"

	"github.com/gorilla/mux"
)

// newRouter serves the plugin's HTTP API under /plugins/{id}/api/v1.
func (p *Plugin) newRouter() *mux.Router {
	r := mux.NewRouter()
	r.Use(p.recoverMiddleware)
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(requireUser)
	api.HandleFunc("/me/changes/latest", p.handleLatestChange).Methods(http.MethodGet)
	api.HandleFunc("/me/link", p.handleLink).Methods(http.MethodGet)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "No such endpoint.")
	})
	return r
}

// requireUser lets through only requests Mattermost authenticated.
func requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mattermost-User-ID") == "" {
			writeJSONError(w, http.StatusUnauthorized, "not_authenticated", "Log in to Mattermost first.")
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
				writeJSONError(w, http.StatusInternalServerError, "internal", "Something went wrong; the details are in the server log.")
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
