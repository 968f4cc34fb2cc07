package store

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The agreed address is set on the link it belongs to, and only there.
func TestSetAgreedEmail(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	ann := account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkCodeMethod, LinkedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), AgreedEmail: "ann@example.org"}
	if err := s.AddLink(ann); err != nil {
		t.Fatal(err)
	}
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@new.example.org"); err != nil || !ok || before != "ann@example.org" {
		t.Fatalf("before %q, matched %v, err %v: want the address agreed before", before, ok, err)
	}
	// The same again: nothing to write, the same answer.
	if before, ok, err := s.SetAgreedEmail("u1", 10, "ann@new.example.org"); err != nil || !ok || before != "ann@new.example.org" {
		t.Fatalf("again: before %q, matched %v, err %v", before, ok, err)
	}
	want := ann
	want.AgreedEmail = "ann@new.example.org"
	if got, ok, err := s.Link("u1"); err != nil || !ok || got != want {
		t.Errorf("link %+v %v %v, want %+v", got, ok, err, want)
	}
	// The link now goes to another Zulip account: nothing changes.
	if before, ok, err := s.SetAgreedEmail("u1", 11, "other@example.org"); err != nil || ok || before != "" {
		t.Fatalf("another account: before %q, matched %v, err %v", before, ok, err)
	}
	if got, _, _ := s.Link("u1"); got != want {
		t.Errorf("a stale change moved another link's address: %+v", got)
	}
	// No link: nothing is stored.
	if _, ok, err := s.SetAgreedEmail("u2", 12, "bob@example.org"); err != nil || ok {
		t.Fatalf("no link: matched %v, err %v", ok, err)
	}
	if _, ok, _ := s.Link("u2"); ok {
		t.Error("a link was made up")
	}
}

// Saves that race keep the link whole: each is compare-and-set.
func TestSetAgreedEmailKeepsTheLink(t *testing.T) {
	s := New(&pluginapi.MemoryStore{})
	ann := account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkAdmin, LinkedBy: "admin"}
	if err := s.AddLink(ann); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.SetAgreedEmail("u1", 10, e); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _, _ := s.Link("u1")
	got.AgreedEmail = ""
	if got != ann {
		t.Errorf("link %+v, want %+v with an agreed address", got, ann)
	}
}

// setFailsKV fails every write of a link.
type setFailsKV struct {
	pluginapi.MemoryStore
	failing bool
}

func (k *setFailsKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if k.failing && strings.HasPrefix(key, keyLink) {
		return false, errors.New("connection reset")
	}
	return k.MemoryStore.Set(key, value, options...)
}

// A write that fails after its read still says what was agreed before: the
// change puts that back if it does not go through.
func TestSetAgreedEmailSaysWhatWasAgreedWhenTheWriteFails(t *testing.T) {
	kv := &setFailsKV{}
	s := New(kv)
	if err := s.AddLink(account.Link{UserID: "u1", ZulipUserID: 10, Method: account.LinkAdmin, AgreedEmail: "ann@example.org"}); err != nil {
		t.Fatal(err)
	}
	kv.failing = true
	before, ok, err := s.SetAgreedEmail("u1", 10, "ann@new.example.org")
	if err == nil || !ok || before != "ann@example.org" {
		t.Fatalf("before %q, matched %v, err %v: want the old address with the error", before, ok, err)
	}
}
