package main

import "net/http"

// handleLatestChange answers the caller's most recent email change record.
func (p *Plugin) handleLatestChange(w http.ResponseWriter, r *http.Request) {
	userID := r.Header.Get("Mattermost-User-ID")
	ch, ok, err := p.store.LatestChange(userID)
	if err != nil {
		p.client.Log.Error("Account Sync: reading the latest change", "user_id", userID, "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "internal", "Could not read your changes; the details are in the server log.")
		return
	}
	if !ok {
		writeJSONError(w, http.StatusNotFound, "no_changes", "You have not changed your email with Account Sync yet.")
		return
	}
	writeJSON(w, http.StatusOK, ch)
}
