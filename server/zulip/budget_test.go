package zulip

import (
	"net/http"
	"testing"
	"time"
)

// The budget is unknown until Zulip answers, then what its headers said,
// less the requests on their way; unknown again once its reset passed.
func TestPacerBudget(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := NewPacer()
	p.now = func() time.Time { return now }
	if _, known := p.Budget(); known {
		t.Fatal("known before any answer")
	}
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "37")
	h.Set("X-RateLimit-Reset", "1796032860") // 2026-11-30 10:01:00 UTC
	p.inflight = 1
	p.answer(false, 0, http.StatusOK, h, 0)
	if r, known := p.Budget(); !known || r != 37 {
		t.Errorf("after an answer: %d %v, want 37 true", r, known)
	}
	p.inflight = 2
	if r, _ := p.Budget(); r != 35 {
		t.Errorf("with 2 on their way: %d, want 35", r)
	}
	now = now.Add(2 * time.Minute)
	if _, known := p.Budget(); known {
		t.Error("known after the reset passed")
	}
}
