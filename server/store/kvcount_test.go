package store

import (
	"strings"
	"sync"

	"github.com/mattermost/mattermost/server/public/pluginapi"
)

// countingKV is the in-memory KV store counting reads, so that tests can
// tell what a call costs.
type countingKV struct {
	pluginapi.MemoryStore
	mu      sync.Mutex
	gets    int // every Get
	records int // Gets of change records
}

func (k *countingKV) Get(key string, o any) error {
	k.mu.Lock()
	k.gets++
	if strings.HasPrefix(key, keyChangePrefix) {
		k.records++
	}
	k.mu.Unlock()
	return k.MemoryStore.Get(key, o)
}

// reset zeroes the counts.
func (k *countingKV) reset() {
	k.mu.Lock()
	k.gets, k.records = 0, 0
	k.mu.Unlock()
}

// reads returns the reads since the last reset: all, and of change records.
func (k *countingKV) reads() (all, records int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gets, k.records
}
