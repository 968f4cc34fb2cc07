package main

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// handleAdminChangeEmail is POST /users/{user_id}/email: a system admin
// changes another user's email, through the same flow and checks.
func (p *Plugin) handleAdminChangeEmail(w http.ResponseWriter, r *http.Request) {
	p.changeEmail(w, r, account.Request{UserID: mux.Vars(r)["user_id"], ActorID: userOf(r), SessionID: sessionOf(r)})
}

// handleAdminStatus is GET /users/{user_id}/status.
func (p *Plugin) handleAdminStatus(w http.ResponseWriter, r *http.Request) {
	p.writeLatest(w, mux.Vars(r)["user_id"])
}

// handleListChanges is GET /changes?state=&page=&per_page=: every change
// record, newest first.
func (p *Plugin) handleListChanges(w http.ResponseWriter, r *http.Request) {
	page, perPage, ok := readPaging(w, r)
	if !ok {
		return
	}
	state := account.State(r.URL.Query().Get("state"))
	changes, err := p.service().ListChanges(state, page, perPage)
	if err != nil {
		p.client.Log.Error("Account Sync: listing changes", "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "internal", reply.APIChangesUnlisted)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": apiChanges(changes), "page": page, "per_page": perPage})
}

// readPaging reads ?page= (from 0) and ?per_page= (1 to 200, 50 by
// default), answering 400 itself when they are not.
func readPaging(w http.ResponseWriter, r *http.Request) (page, perPage int, ok bool) {
	q := r.URL.Query()
	page, err1 := atoiOr(q.Get("page"), 0)
	perPage, err2 := atoiOr(q.Get("per_page"), 50)
	if err1 != nil || err2 != nil || page < 0 || perPage < 1 || perPage > 200 {
		writeJSONError(w, http.StatusBadRequest, "bad_request", reply.APIBadPage)
		return 0, 0, false
	}
	return page, perPage, true
}

func atoiOr(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
