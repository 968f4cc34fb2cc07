package account

import (
	"errors"
	"testing"
	"time"
)

// review2: when the job's write-ahead save fails (the KV store is down, or
// another node saved first), addbcf4's advance saw the change moved in
// memory (waiting_for_zulip -> started) and counted it in
// JobReport.Advanced, so the sync job logged its "background job run"
// line; the move now happens on a copy, and the run reports nothing: kept
// on purpose, since nothing was saved (Advanced counts changes moved on).
func TestReview2FailedWriteAheadInTheJobIsNotCounted(t *testing.T) {
	h := newHarness([]User{annUser()}, ann)
	before := waitingChange(t, h)
	h.clock.advance(time.Minute)
	h.rec.err = errors.New("kv down")
	rep := runJob(t, h)
	h.rec.err = nil
	if got := stored(t, h, before.ID); rep.Advanced != 0 || got.Version != before.Version || got.State != StateWaitingForZulip {
		t.Errorf("job report %+v, record %+v: want nothing counted, the record as it was", rep, got)
	}
	if !logHas(h, "error", "could not save the change record") {
		t.Errorf("the failed save was not logged:\n%s", h.log)
	}
}
