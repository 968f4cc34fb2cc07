package store

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

var listStates = []account.State{
	account.StateDone, account.StateRolledBack, account.StateFailed,
	account.StateMattermostChanged, account.StateCancelled, account.StateNeedsAttention,
}

// A page of the admin list costs about what it shows: a few index reads
// and the records on the page, not a read of every record (found in
// review: 3,000 reads for a page of one).
func TestListChangesReadsOnlyThePage(t *testing.T) {
	kv := &countingKV{}
	s := New(kv)
	clock := &testClock{}
	s.now = clock.now
	base := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	const n = 3000
	for i := range n {
		at := base.Add(time.Duration(i) * 13 * time.Minute) // 27 days
		clock.set(at)
		c := account.Change{ID: fmt.Sprintf("c%04d", i), UserID: fmt.Sprintf("u%d", i%300), State: account.StateStarted, CreatedAt: at}
		if err := s.SaveChange(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
		c.State = listStates[i%len(listStates)]
		if err := s.SaveChange(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		state         account.State
		page, perPage int
		wantFirst     string
		maxReads      int
	}{
		{"", 0, 1, "c2999", 50},
		{account.StateFailed, 0, 1, "c2996", 50},         // i%6 == 2
		{account.StateNeedsAttention, 0, 3, "c2999", 50}, // i%6 == 5
		{"", 10, 20, "c2799", 120},                       // two days back
	} {
		kv.reset()
		got, err := s.ListChanges(tc.state, tc.page, tc.perPage)
		all, records := kv.reads()
		if err != nil || len(got) != tc.perPage || got[0].ID != tc.wantFirst {
			t.Fatalf("%+v: got %d changes, first %v (%v)", tc, len(got), first(got), err)
		}
		if all > tc.maxReads || records > tc.perPage {
			t.Errorf("%q page %d of %d: %d reads, %d of them records; want at most %d and %d", tc.state, tc.page, tc.perPage, all, records, tc.maxReads, tc.perPage)
		}
	}
}

func first(cs []account.Change) string {
	if len(cs) == 0 {
		return "none"
	}
	return cs[0].ID
}

// The list is newest first by creation, pages follow one another, and the
// state filter keeps only that state: checked against a sort of all records
// across days, time zones and a record without a creation time.
func TestListChangesOrderPagingAndFilter(t *testing.T) {
	s := New(&countingKV{})
	clock := &testClock{}
	s.now = clock.now
	base := time.Date(2026, 10, 1, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)) // near midnight, in another zone
	const n = 250
	var all []account.Change
	for i := range n {
		at := base.Add(time.Duration((i*37)%n) * 97 * time.Minute) // saved out of order, over 17 days
		if i == 7 {
			at = time.Time{}
		}
		clock.set(base.Add(time.Duration(i) * time.Minute))
		c := account.Change{ID: fmt.Sprintf("c%03d", i), UserID: fmt.Sprintf("u%d", i), State: account.StateStarted, CreatedAt: at}
		if err := s.SaveChange(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
		if i%5 != 0 {
			c.State = listStates[i%len(listStates)]
			if err := s.SaveChange(context.Background(), &c); err != nil {
				t.Fatal(err)
			}
		}
		stored, _, _ := s.GetChange(c.ID)
		all = append(all, stored)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	for _, state := range []account.State{"", account.StateStarted, account.StateDone, account.StateMattermostChanged, "no_such_state"} {
		var want []account.Change
		for _, c := range all {
			if state == "" || c.State == state {
				want = append(want, c)
			}
		}
		for _, perPage := range []int{1, 7, 50, 200} {
			var got []account.Change
			for page := 0; ; page++ {
				p, err := s.ListChanges(state, page, perPage)
				if err != nil {
					t.Fatal(err)
				}
				if p == nil {
					t.Fatalf("%q page %d: nil, want an empty list", state, page)
				}
				if len(p) > perPage || (len(p) < perPage && len(got)+len(p) != len(want)) {
					t.Fatalf("%q page %d of %d: %d changes", state, page, perPage, len(p))
				}
				got = append(got, p...)
				if len(p) < perPage {
					break
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q by %d: got %v\nwant %v", state, perPage, ids(got), ids(want))
			}
		}
	}
}

func ids(cs []account.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// A page far beyond the end is empty, whatever its number.
func TestListChangesHugePage(t *testing.T) {
	s := New(&countingKV{})
	c := account.Change{ID: "c1", UserID: "u1", State: account.StateDone, CreatedAt: time.Now()}
	if err := s.SaveChange(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	for _, page := range []int{1, math.MaxInt / 200, math.MaxInt/200 + 1, math.MaxInt} {
		got, err := s.ListChanges("", page, 200)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("page %d: %v %v, want an empty list", page, ids(got), err)
		}
	}
}
