package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Every save stamps the record with the store's clock, whatever the caller
// left in UpdatedAt: a change the job reschedules is seen as alive.
func TestSaveChangeMovesUpdatedAt(t *testing.T) {
	s := New(&countingKV{})
	clock := &testClock{}
	s.now = clock.now
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	next := t0.Add(time.Hour)
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateWaitingForZulip, NextAttemptAt: &next, CreatedAt: t0, UpdatedAt: t0}
	for _, at := range []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Hour)} {
		clock.set(at)
		c.Attempts++ // a reschedule: the caller does not touch UpdatedAt
		if err := s.SaveChange(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
		stored, _, _ := s.GetChange("c1")
		open, _ := s.OpenChanges()
		if !c.UpdatedAt.Equal(at) || !stored.UpdatedAt.Equal(at) || len(open) != 1 || !open[0].UpdatedAt.Equal(at) {
			t.Fatalf("saved at %s: caller has %s, record %s, open index %v", at, c.UpdatedAt, stored.UpdatedAt, open)
		}
		if !stored.CreatedAt.Equal(t0) {
			t.Errorf("CreatedAt moved to %s", stored.CreatedAt)
		}
	}
}

// An open change is never pruned, however old and however short the
// retention: it is deleted only once it has ended and stayed unchanged for
// the retention (found in review: a change with Mattermost changed and
// Zulip not, rescheduled by the job, was deleted with a 1-day retention).
func TestPruneNeverDeletesAnOpenChange(t *testing.T) {
	s := New(&countingKV{})
	clock := &testClock{}
	s.now = clock.now
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	save := func(c *account.Change, at time.Time) {
		t.Helper()
		clock.set(at)
		if err := s.SaveChange(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	created := func(id string, state account.State, age time.Duration) *account.Change {
		t.Helper()
		at := now.Add(-age)
		c := &account.Change{ID: id, UserID: "u-" + id, State: state, CreatedAt: at, UpdatedAt: at}
		save(c, at)
		return c
	}
	mc := created("mc", account.StateMattermostChanged, 3*day)
	retry := now.Add(-2 * day)
	mc.NextAttemptAt = &retry
	save(mc, now.Add(-2*day)) // rescheduled by the job, still open
	created("pend", account.StatePendingVerification, 200*day)
	created("wait", account.StateWaitingForZulip, 5*day)
	created("started", account.StateStarted, 40*day)
	created("done", account.StateDone, 3*day)
	late := created("late", account.StateMattermostChanged, 3*day)
	late.State = account.StateDone
	save(late, now.Add(-2*time.Hour)) // ended within the retention

	clock.set(now)
	res, err := s.PruneChanges(day)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || res.Kept != 5 || res.Open != 4 {
		t.Errorf("result %+v, want 1 deleted and 5 old ones kept, 4 of them open", res)
	}
	for id, want := range map[string]bool{"mc": true, "pend": true, "wait": true, "started": true, "late": true, "done": false} {
		if _, ok, _ := s.GetChange(id); ok != want {
			t.Errorf("%s kept = %v, want %v", id, ok, want)
		}
	}
	if listed, _ := s.ListChanges("", 0, 50); len(listed) != 5 {
		t.Errorf("listed %v after the prune, want the 5 kept", ids(listed))
	}

	// Once ended, they go after the retention like any other.
	mc.State = account.StateDone
	save(mc, now)
	clock.set(now.Add(2 * day))
	res, err = s.PruneChanges(day)
	if err != nil || res.Deleted != 2 || res.Kept != 3 {
		t.Errorf("second prune %+v %v, want mc and late deleted, 3 open kept", res, err)
	}
	for id, want := range map[string]bool{"mc": false, "late": false, "pend": true, "wait": true, "started": true} {
		if _, ok, _ := s.GetChange(id); ok != want {
			t.Errorf("after the second prune %s kept = %v, want %v", id, ok, want)
		}
	}
}

// The prune reads only the records old enough to go, through the index by
// day, not every record.
func TestPruneReadsOnlyOldRecords(t *testing.T) {
	kv := &countingKV{}
	s := New(kv)
	clock := &testClock{}
	s.now = clock.now
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	save := func(id string, state account.State, at time.Time) {
		t.Helper()
		clock.set(at)
		c := account.Change{ID: id, UserID: "u-" + id, State: state, CreatedAt: at}
		if err := s.SaveChange(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2000 {
		save(fmt.Sprintf("young%04d", i), account.StateDone, now.Add(-time.Duration(i)*time.Minute))
	}
	for i := range 20 {
		save(fmt.Sprintf("old%02d", i), account.StateRolledBack, now.Add(-100*day-time.Duration(i)*time.Hour))
	}
	save("oldopen", account.StateMattermostChanged, now.Add(-100*day))
	clock.set(now)
	kv.reset()
	res, err := s.PruneChanges(90 * day)
	if err != nil || res.Deleted != 20 || res.Kept != 1 {
		t.Fatalf("prune %+v %v, want 20 deleted and the open one kept", res, err)
	}
	if _, records := kv.reads(); records > 21 {
		t.Errorf("the prune read %d records, want only the 21 old ones", records)
	}
	if listed, _ := s.ListChanges("", 0, 200); len(listed) != 200 || listed[0].ID != "young0000" {
		t.Errorf("listed %d, first %s", len(listed), first(listed))
	}
}
