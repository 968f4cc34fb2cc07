package account

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkChangeEmail measures the flow's own cost (validation, checks,
// records, report) with in-memory systems, so changes to the flow that make
// it slower show up here rather than in timed tests.
func BenchmarkChangeEmail(b *testing.B) {
	mm := newFakeMattermost(annUser())
	z := newFakeZulip(ann)
	svc := NewService(mm, z, Options{SyncZulip: true, Recorder: &memRecorder{}, Locker: &memLocker{held: map[string]bool{}}})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res := svc.ChangeEmail(context.Background(), Request{UserID: "u1", NewEmail: "ann" + strconv.Itoa(i) + "@example.org"})
		if res.Change.State != StateDone {
			b.Fatalf("state %s: %v", res.Change.State, res.Failure)
		}
		_ = res.Report()
	}
}
