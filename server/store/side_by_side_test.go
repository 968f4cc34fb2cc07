package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

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

// panickyIndexKV panics writing the index (by day, and of open changes).
type panickyIndexKV struct{ pluginapi.MemoryStore }

func (k *panickyIndexKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	if strings.HasPrefix(key, keyDayShard) {
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
