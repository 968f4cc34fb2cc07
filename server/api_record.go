package main

import (
	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
	"github.com/account-sync/mattermost-plugin-account-sync/server/reply"
)

// apiChange is a change record as the HTTP API shows it: the stored record
// with its last error worded (records keep only the code and safe facts).
func apiChange(ch account.Change) account.Change {
	if ch.LastError != nil {
		le := *ch.LastError
		le.Text = reply.StoredError(ch)
		ch.LastError = &le
	}
	return ch
}

// apiChanges is apiChange for a page of records.
func apiChanges(chs []account.Change) []account.Change {
	out := make([]account.Change, len(chs))
	for i, ch := range chs {
		out[i] = apiChange(ch)
	}
	return out
}
