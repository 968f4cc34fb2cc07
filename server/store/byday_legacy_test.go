package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// Records stored before the index by day existed are listed and pruned
// after the upgrade: the index is built from them once, on first use, even
// with more than a page of other keys sorted before them; afterwards a
// listing reads the index, also on another node.
func TestLegacyRecordsAreListedAndPrunedAfterUpgrade(t *testing.T) {
	kv := &countingKV{}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for i := range 1200 { // links sort before the records
		if _, err := kv.Set(linkKey(fmt.Sprintf("u%04d", i)), account.Link{UserID: "x", ZulipUserID: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	var legacy []string // newest first
	for i := range 30 {
		at := now.Add(-time.Duration(i) * 2 * day)
		state := account.StateDone
		if i%10 == 9 {
			state = account.StateMattermostChanged
		}
		c := account.Change{ID: fmt.Sprintf("legacy%02d", i), UserID: fmt.Sprintf("u%d", i), State: state, CreatedAt: at, UpdatedAt: at, Version: 1}
		if _, err := kv.Set(changeKey(c.ID), c); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Set(userLatestKey(c.UserID), c.ID); err != nil {
			t.Fatal(err)
		}
		legacy = append(legacy, c.ID)
	}
	s := New(kv)
	clock := &testClock{t: now.Add(time.Minute)}
	s.now = clock.now
	// A new change is saved before anyone lists.
	fresh := account.Change{ID: "fresh", UserID: "u100", State: account.StateDone, CreatedAt: clock.now()}
	if err := s.SaveChange(context.Background(), &fresh); err != nil {
		t.Fatal(err)
	}

	got, err := s.ListChanges("", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"fresh"}, legacy...)
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("listed %v\nwant %v", ids(got), want)
	}
	if open, _ := s.ListChanges(account.StateMattermostChanged, 0, 10); fmt.Sprint(ids(open)) != "[legacy09 legacy19 legacy29]" {
		t.Errorf("open legacy changes listed as %v", ids(open))
	}

	for _, node := range []*Store{s, New(kv)} {
		kv.reset()
		page, err := node.ListChanges("", 1, 2)
		all, records := kv.reads()
		if err != nil || fmt.Sprint(ids(page)) != "[legacy01 legacy02]" || records != 2 || all > 50 {
			t.Errorf("second page of 2: %v %v with %d reads (%d records): the index was not used", ids(page), err, all, records)
		}
	}

	res, err := s.PruneChanges(30 * day)
	if err != nil || res.Deleted != 13 || res.Kept != 2 {
		t.Fatalf("prune %+v %v, want legacy15..29 gone but for the 2 open ones", res, err)
	}
	got, _ = s.ListChanges("", 0, 100)
	want = []string{"fresh"}
	want = append(want, legacy[:15]...)
	want = append(want, "legacy19", "legacy29")
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Errorf("after the prune %v\nwant %v", ids(got), want)
	}
	if _, ok, _ := s.LatestChange("u20"); ok {
		t.Error("a pruned legacy record is still a user's latest change")
	}
}
