package store

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/account"
)

// The count of codes sent has its own key: deleting the pending code (a
// successful link) leaves it. Before the upgrade it lived in the code's
// record; it is read from there while the new key is absent.
func TestCodesSentSurvivesLinkingAndUpgrade(t *testing.T) {
	kv := &pluginapi.MemoryStore{}
	s := New(kv)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Hour)}

	// A record saved by the previous release: the count inside the code.
	if _, err := kv.Set("v1_linkcode_u1", account.LinkCode{ZulipUserID: 10, Hash: "h", TriesLeft: 5, Sent: old}); err != nil {
		t.Fatal(err)
	}
	got, err := s.CodesSent("u1")
	if err != nil || !slices.EqualFunc(got, old, time.Time.Equal) {
		t.Fatalf("upgrade: %v %v, want %v", got, err, old)
	}

	if err := s.SaveCodesSent("u1", append(got, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLinkCode("u1"); err != nil { // linked
		t.Fatal(err)
	}
	got, err = s.CodesSent("u1")
	if err != nil || len(got) != 3 || !got[2].Equal(now) {
		t.Fatalf("after linking: %v %v", got, err)
	}
	var raw []byte
	if err := kv.Get("v1_linksent_u1", &raw); err != nil || len(raw) == 0 {
		t.Fatalf("the count is not under its own key: %q %v", raw, err)
	}
	// The new key wins over an old record's count.
	if err := s.SaveLinkCode("u1", account.LinkCode{ZulipUserID: 10, Sent: old[:1]}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CodesSent("u1"); len(got) != 3 {
		t.Errorf("read the old record's count over the new one: %v", got)
	}
	if got, err := s.CodesSent("nobody"); err != nil || len(got) != 0 {
		t.Errorf("no record: %v %v", got, err)
	}
}

// meetingKV holds its first n reads until all n have read: every writer
// then starts from the same value, as on nodes that read at the same moment.
type meetingKV struct {
	pluginapi.MemoryStore
	reads   atomic.Int32
	n       int32
	meeting sync.WaitGroup
}

func newMeetingKV(n int) *meetingKV {
	kv := &meetingKV{n: int32(n)}
	kv.meeting.Add(n)
	return kv
}

func (m *meetingKV) Get(key string, o any) error {
	err := m.MemoryStore.Get(key, o)
	if m.reads.Add(1) <= m.n {
		m.meeting.Done()
		m.meeting.Wait()
	}
	return err
}

// Codes asked for the same Zulip account at once, by different users, are
// all counted; a refusal stores nothing.
func TestUpdateZulipCodesSentIsAtomic(t *testing.T) {
	const n = 8 // enough to lose counts without compare-and-set; few enough never to run out of tries
	s := New(newMeetingKV(n))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.UpdateZulipCodesSent(10, func(sent []time.Time) ([]time.Time, bool) {
				return append(sent, base.Add(time.Duration(i)*time.Second)), true
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var seen []time.Time
	err := s.UpdateZulipCodesSent(10, func(sent []time.Time) ([]time.Time, bool) {
		seen = sent
		return nil, false
	})
	if err != nil || len(seen) != n {
		t.Fatalf("counted %d of %d codes (%v)", len(seen), n, err)
	}
	_ = s.UpdateZulipCodesSent(10, func(sent []time.Time) ([]time.Time, bool) { seen = sent; return nil, false })
	if len(seen) != n {
		t.Errorf("a refusal changed the count to %d", len(seen))
	}
	_ = s.UpdateZulipCodesSent(11, func(sent []time.Time) ([]time.Time, bool) { seen = sent; return nil, false })
	if len(seen) != 0 {
		t.Errorf("another Zulip account shares the count: %v", seen)
	}
}
