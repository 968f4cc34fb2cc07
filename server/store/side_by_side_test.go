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

// indexMeetKV makes the writes of the two indexes wait for each other: they
// pass only when both are under way at once.
type indexMeetKV struct {
	pluginapi.MemoryStore
	mu      sync.Mutex
	waiting map[string]chan struct{} // index family -> closed when the other arrives
	apart   bool                     // a write waited for the other in vain
}

func indexFamily(key string) string {
	switch {
	case strings.HasPrefix(key, keyOpenShard):
		return "open"
	case strings.HasPrefix(key, keyDayShard):
		return "day"
	}
	return ""
}

func (k *indexMeetKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if f := indexFamily(key); f != "" {
		k.mu.Lock()
		other := map[string]string{"open": "day", "day": "open"}[f]
		if ch, ok := k.waiting[other]; ok {
			delete(k.waiting, other)
			close(ch)
			k.mu.Unlock()
		} else {
			ch := make(chan struct{})
			k.waiting[f] = ch
			k.mu.Unlock()
			select {
			case <-ch:
			case <-time.After(2 * time.Second):
				k.mu.Lock()
				k.apart = true
				delete(k.waiting, f)
				k.mu.Unlock()
			}
		}
	}
	return k.MemoryStore.Set(key, value, options...)
}

// A change's record is saved with its index entries written side by side,
// not one after the other: a new open change's day entry and its entry
// among the open changes; a change that ends, its day entry and its
// removal from the open changes. Each before (or after) the record as
// before.
func TestSaveChangeWritesTheIndexesSideBySide(t *testing.T) {
	kv := &indexMeetKV{waiting: map[string]chan struct{}{}}
	s := New(kv)
	ctx := context.Background()
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	c.State = account.StateDone
	if err := s.SaveChange(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if kv.apart {
		t.Error("an index was written only after the other")
	}
	if open, _ := s.OpenChanges(); len(open) != 0 {
		t.Errorf("open: %+v", open)
	}
	if got, err := s.ListChanges("", 0, 10); err != nil || len(got) != 1 || got[0].State != account.StateDone {
		t.Errorf("listed %+v %v", got, err)
	}
}

// The first error of things done side by side, in their order.
func TestSideBySideFirstError(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	ran := make([]bool, 3)
	err := sideBySide(func() error { ran[0] = true; return nil }, func() error { ran[1] = true; return e1 }, func() error { ran[2] = true; return e2 })
	if !errors.Is(err, e1) || !ran[0] || !ran[1] || !ran[2] {
		t.Errorf("err %v, ran %v", err, ran)
	}
	if err := sideBySide(); err != nil {
		t.Error(err)
	}
}

// panickyIndexKV panics writing the open-changes index.
type panickyIndexKV struct{ pluginapi.MemoryStore }

func (k *panickyIndexKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if strings.HasPrefix(key, keyOpenShard) {
		panic("driver bug")
	}
	return k.MemoryStore.Set(key, value, options...)
}

// An index update that panics fails the save, as it would in the caller's
// goroutine, and the record is not written.
func TestSaveChangeIndexPanicFailsTheSave(t *testing.T) {
	s := New(&panickyIndexKV{})
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateStarted, CreatedAt: time.Now()}
	if err := s.SaveChange(context.Background(), &c); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("err %v: want the panic as an error", err)
	}
	if _, ok, _ := s.GetChange("c1"); ok {
		t.Error("the record was written")
	}
}
