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

// The link of a Zulip account is the owner's whole link, found as
// LinkedUser finds it.
func TestLinkOfZulip(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	want := account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkCodeMethod, AgreedEmail: "a@example.org"}
	if err := s.AddLink(want); err != nil {
		t.Fatal(err)
	}
	if l, ok, err := s.LinkOfZulip(10); err != nil || !ok || l != want {
		t.Errorf("link %+v %v %v, want %+v", l, ok, err, want)
	}
	if _, err := kv.Set(zulipOwnerKey(12), "u1"); err != nil { // u1 is linked to 10, not 12
		t.Fatal(err)
	}
	if l, ok, _ := s.LinkOfZulip(12); ok || l != (account.Link{}) {
		t.Errorf("a stale reverse key gives %+v", l)
	}
}
