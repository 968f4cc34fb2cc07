package main

import (
	"net/http"

	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// handleLink answers the caller's link to a Zulip account.
func (p *Plugin) handleLink(w http.ResponseWriter, r *http.Request) {
	userID := userOf(r)
	b, ok, err := p.service().LinkOf(userID)
	if err != nil {
		p.client.Log.Error("Account Sync: reading a link", "user_id", userID, "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "internal", reply.APILinkUnread)
		return
	}
	if !ok {
		writeJSONError(w, http.StatusNotFound, "not_linked", reply.APINotLinked)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
