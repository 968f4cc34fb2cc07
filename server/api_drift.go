package main

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// driftRow is one row of the drift report as the API answers it.
type driftRow struct {
	Kind               account.DriftKind `json:"kind"`
	Label              string            `json:"label"`
	MattermostUserID   string            `json:"mattermost_user_id,omitempty"`
	MattermostUsername string            `json:"mattermost_username,omitempty"`
	MattermostEmail    string            `json:"mattermost_email,omitempty"`
	ZulipUserID        int               `json:"zulip_user_id,omitempty"`
	ZulipEmail         string            `json:"zulip_email,omitempty"`
	AgreedEmail        string            `json:"agreed_email,omitempty"`
	WhatToDo           string            `json:"what_to_do"`
}

// driftPage is one page of GET /drift.
type driftPage struct {
	MattermostUsers int                       `json:"mattermost_users"`
	ZulipUsers      int                       `json:"zulip_users"`
	Total           int                       `json:"total"`
	Counts          map[account.DriftKind]int `json:"counts"`
	Page            int                       `json:"page"`
	PerPage         int                       `json:"per_page"`
	Rows            []driftRow                `json:"rows"`
}

func toDriftRow(r account.DriftRow) driftRow {
	return driftRow{
		Kind: r.Kind, Label: reply.DriftLabel(r.Kind),
		MattermostUserID: r.UserID, MattermostUsername: r.Username, MattermostEmail: r.Email,
		ZulipUserID: r.ZulipUserID, ZulipEmail: r.ZulipEmail, AgreedEmail: r.AgreedEmail,
		WhatToDo: reply.DriftText(r.Kind),
	}
}

// handleDrift is GET /drift?page=&per_page=: the drift report, by pages,
// with the counts of the whole report. Each call reads both systems anew.
func (p *Plugin) handleDrift(w http.ResponseWriter, r *http.Request) {
	page, perPage, ok := readPaging(w, r)
	if !ok {
		return
	}
	rep, f := p.service().Drift(r.Context(), userOf(r), sessionOf(r))
	if f != nil {
		writeFailure(w, f)
		return
	}
	out := driftPage{
		MattermostUsers: rep.MattermostUsers, ZulipUsers: rep.ZulipUsers, Total: len(rep.Rows), Counts: rep.Counts,
		Page: page, PerPage: perPage, Rows: []driftRow{},
	}
	for i := page * perPage; i < len(rep.Rows) && i < (page+1)*perPage; i++ {
		out.Rows = append(out.Rows, toDriftRow(rep.Rows[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// driftCSVHeader names the columns of GET /drift.csv.
var driftCSVHeader = []string{
	"kind", "label", "mattermost_user_id", "mattermost_username", "mattermost_email",
	"zulip_user_id", "zulip_email", "agreed_email", "what_to_do",
}

// handleDriftCSV is GET /drift.csv: the whole drift report, one row per
// pair after a header row.
func (p *Plugin) handleDriftCSV(w http.ResponseWriter, r *http.Request) {
	rep, f := p.service().Drift(r.Context(), userOf(r), sessionOf(r))
	if f != nil {
		writeFailure(w, f)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="account-sync-drift.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(driftCSVHeader)
	for _, row := range rep.Rows {
		zid := ""
		if row.ZulipUserID != 0 {
			zid = strconv.Itoa(row.ZulipUserID)
		}
		_ = cw.Write(csvCells(string(row.Kind), reply.DriftLabel(row.Kind), row.UserID, row.Username, row.Email,
			zid, row.ZulipEmail, row.AgreedEmail, reply.DriftText(row.Kind)))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		p.client.Log.Warn("Account Sync: writing the drift report", "error", err.Error())
	}
}

// csvCells makes cells safe to open in a spreadsheet: a cell that starts
// with a character a spreadsheet reads as a formula (= + - @, or a tab or
// carriage return before one) gets a leading apostrophe, so it stays text.
// Addresses may start with any of them: "=cmd@example.org" is valid.
func csvCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
