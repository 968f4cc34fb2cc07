package store

import (
	"sync"
	"time"
)

// recentBytes remembers, for a short while, the bytes this process last
// read or wrote under a key it updates with compare-and-set (a change
// record, a link), so that the next update can skip its read. Nothing is
// decided on them alone: the compare-and-set checks them against the
// stored value, and when another writer came in between it fails and the
// update reads and goes on as before. Each is used once.
type recentBytes struct {
	mu sync.Mutex
	m  map[string]recentEntry
}

type recentEntry struct {
	b  []byte
	at time.Time
}

// recentMaxAge bounds how old remembered bytes may be: past it another
// writer has likely come in between, and a failed compare-and-set would
// cost more than the read it saves.
const recentMaxAge = 30 * time.Second

// recentMax bounds the keys remembered; past it the map starts anew.
const recentMax = 4096

// put remembers b as what key holds now.
func (r *recentBytes) put(key string, b []byte, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= recentMax {
		r.m = map[string]recentEntry{}
	}
	r.m[key] = recentEntry{b: b, at: now}
}

// take returns what key held when last read or written here, if that was
// less than recentMaxAge ago, and forgets it.
func (r *recentBytes) take(key string, now time.Time) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[key]
	delete(r.m, key)
	if !ok || now.Sub(e.at) > recentMaxAge || now.Before(e.at) {
		return nil, false
	}
	return e.b, true
}
