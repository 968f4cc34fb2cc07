package spectest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Recorder is a testing.TB that collects Errorf/Error reports instead of
// failing the test, to check what a Validator reports. Everything else goes
// to the wrapped TB. It is safe for concurrent use.
type Recorder struct {
	testing.TB

	mu   sync.Mutex
	msgs []string
}

// NewRecorder wraps tb.
func NewRecorder(tb testing.TB) *Recorder { return &Recorder{TB: tb} }

// Helper does nothing.
func (r *Recorder) Helper() {}

// Errorf records a report.
func (r *Recorder) Errorf(format string, args ...any) { r.add(fmt.Sprintf(format, args...)) }

// Error records a report.
func (r *Recorder) Error(args ...any) { r.add(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

func (r *Recorder) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}

// Errors returns the reports so far.
func (r *Recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// Reset forgets the reports.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = nil
}
