package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// pointerMeetKV makes the user's latest-change pointer and the open
// changes' entry wait for each other; failIndex fails the open changes'
// writes instead.
type pointerMeetKV struct {
	pluginapi.MemoryStore
	mu        sync.Mutex
	arrived   map[string]chan struct{}
	apart     bool
	failIndex bool
}

func (k *pointerMeetKV) family(key string) string {
	switch {
	case strings.HasPrefix(key, keyUserLatest):
		return "pointer"
	case strings.HasPrefix(key, keyOpenShard):
		return "open"
	}
	return ""
}

func (k *pointerMeetKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	f := k.family(key)
	if f == "open" && k.failIndex {
		return false, errors.New("db down")
	}
	if f != "" && !k.failIndex {
		k.mu.Lock()
		other := map[string]string{"pointer": "open", "open": "pointer"}[f]
		if ch, ok := k.arrived[other]; ok {
			delete(k.arrived, other)
			close(ch)
			k.mu.Unlock()
		} else {
			ch := make(chan struct{})
			k.arrived[f] = ch
			k.mu.Unlock()
			select {
			case <-ch:
			case <-time.After(2 * time.Second):
				k.mu.Lock()
				k.apart = true
				delete(k.arrived, f)
				k.mu.Unlock()
			}
		}
	}
	return k.MemoryStore.Set(key, value, options...)
}

// Issue 17: a new change's latest-change pointer is written side by side
// with its index entries (one round trip less), all before the record.
func TestPointerWrittenBesideTheIndexes(t *testing.T) {
	kv := &pointerMeetKV{arrived: map[string]chan struct{}{}}
	s := New(kv)
	ctx := context.Background()
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if kv.apart {
		t.Error("the pointer and the open changes' entry were written one after the other")
	}
	if latest, ok, err := s.LatestChange("u1"); err != nil || !ok || latest.ID != "c1" || latest.Version != 1 {
		t.Errorf("latest %+v %v %v", latest, ok, err)
	}
	if open, _ := s.OpenChanges(); len(open) != 1 || open[0].ID != "c1" {
		t.Errorf("open %+v", open)
	}
}

// When an index write fails, the record is not written, and the user's
// latest change is none (as when the pointer was written first): a change
// that does not exist is never shown as theirs.
func TestFailedIndexLeavesNoRecord(t *testing.T) {
	kv := &pointerMeetKV{failIndex: true}
	s := New(kv)
	c := account.Change{ID: "a", UserID: "u1", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(context.Background(), &c); err == nil {
		t.Fatal("saved although the index failed")
	}
	if _, ok, _ := s.GetChange("a"); ok {
		t.Error("the record was written")
	}
	if _, ok, err := s.LatestChange("u1"); ok || err != nil {
		t.Errorf("a latest change that does not exist: %v %v", ok, err)
	}
}
