package main

import "net/http"

// handleLink answers the caller's binding to a Zulip account.
func (p *Plugin) handleLink(w http.ResponseWriter, r *http.Request) {
	userID := r.Header.Get("Mattermost-User-ID")
	b, ok, err := p.service().LinkOf(userID)
	if err != nil {
		p.client.Log.Error("Account Sync: reading a binding", "user_id", userID, "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "internal", "Could not read your link; the details are in the server log.")
		return
	}
	if !ok {
		writeJSONError(w, http.StatusNotFound, "not_linked", "Your Mattermost account is not linked to a Zulip account. Use /account link <your-zulip-address>.")
		return
	}
	writeJSON(w, http.StatusOK, b)
}
