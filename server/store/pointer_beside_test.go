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

// pointerMeetKV makes the user's latest-change pointer and the change's
// entry in the index (by day, and of open changes) wait for each other;
// failIndex fails the index's writes instead.
type pointerMeetKV struct {
	pluginapi.MemoryStore
	mu        sync.Mutex
	arrived   map[string]chan struct{}
	apart     bool
	met       bool // the first two met: the rest go through
	failIndex bool
}

func (k *pointerMeetKV) family(key string) string {
	switch {
	case strings.HasPrefix(key, keyUserLatest):
		return "pointer"
	case strings.HasPrefix(key, keyDayShard):
		return "day"
	}
	return ""
}

func (k *pointerMeetKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	f := k.family(key)
	if f == "day" && k.failIndex {
		return false, errors.New("db down")
	}
	k.mu.Lock()
	met := k.met
	k.mu.Unlock()
	if f != "" && !k.failIndex && !met {
		k.mu.Lock()
		other := map[string]string{"pointer": "day", "day": "pointer"}[f]
		if ch, ok := k.arrived[other]; ok {
			delete(k.arrived, other)
			k.met = true
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
// with its index entry (one round trip less), both before the record; the
// record's end writes the entry once more, after it.
func TestPointerWrittenBesideTheIndexes(t *testing.T) {
	kv := &pointerMeetKV{arrived: map[string]chan struct{}{}}
	s := New(kv)
	ctx := context.Background()
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if kv.apart {
		t.Error("the pointer and the index entry were written one after the other")
	}
	if latest, ok, err := s.LatestChange("u1"); err != nil || !ok || latest.ID != "c1" || latest.Version != 1 {
		t.Errorf("latest %+v %v %v", latest, ok, err)
	}
	if open, _ := s.OpenChanges(); len(open) != 1 || open[0].ID != "c1" {
		t.Errorf("open %+v", open)
	}
	c.State = account.StateDone
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenChanges(); len(open) != 0 {
		t.Errorf("open %+v", open)
	}
	if got, err := s.ListChanges("", 0, 10); err != nil || len(got) != 1 || got[0].State != account.StateDone {
		t.Errorf("listed %+v %v", got, err)
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
