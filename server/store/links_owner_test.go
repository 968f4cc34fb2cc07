package store

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The user linked to a Zulip account is found by the reverse key, and a
// stale reverse key counts for nothing.
func TestLinkedUser(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	if err := s.AddLink(account.Link{UserID: "u1", ZulipUserID: 10}); err != nil {
		t.Fatal(err)
	}
	if u, ok, err := s.LinkedUser(10); err != nil || !ok || u != "u1" {
		t.Errorf("linked user %q %v %v", u, ok, err)
	}
	if _, ok, _ := s.LinkedUser(11); ok {
		t.Error("an unlinked account has a user")
	}
	if _, err := kv.Set(zulipOwnerKey(12), "u2"); err != nil { // left by an interrupted RemoveLink
		t.Fatal(err)
	}
	if _, ok, _ := s.LinkedUser(12); ok {
		t.Error("a stale reverse key counts")
	}
}
