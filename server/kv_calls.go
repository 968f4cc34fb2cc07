package main

import (
	"sync/atomic"

	"github.com/mattermost/mattermost/server/public/pluginapi"

	"github.com/account-sync/mattermost-plugin-account-sync/server/store"
)

// kvCalls counts the store's calls to the plugin KV store (each a round
// trip to the server and its database) on this node since the plugin
// process started, by kind. Together with mattermostCalls it is what a
// change costs the server: account_sync_server_calls_total.
var kvCalls kvCounter

type kvCounter struct {
	gets, sets, deletes, lists, atomics atomic.Int64
}

// kvTally is the store's KV calls by kind.
type kvTally struct {
	Gets    int64 // Get
	Sets    int64 // Set, compare-and-set included
	Deletes int64 // Delete
	Lists   int64 // ListKeys: one page of keys
	Atomics int64 // SetAtomicWithRetries (a read and a compare-and-set, or more)
}

func (c *kvCounter) tally() kvTally {
	return kvTally{Gets: c.gets.Load(), Sets: c.sets.Load(), Deletes: c.deletes.Load(), Lists: c.lists.Load(), Atomics: c.atomics.Load()}
}

// countedKV counts every call of the KV store in c.
type countedKV struct {
	store.KV
	c *kvCounter
}

func (k countedKV) Get(key string, o any) error {
	k.c.gets.Add(1)
	return k.KV.Get(key, o)
}

func (k countedKV) Set(key string, value any, options ...pluginapi.KVSetOption) (bool, error) {
	k.c.sets.Add(1)
	return k.KV.Set(key, value, options...)
}

func (k countedKV) Delete(key string) error {
	k.c.deletes.Add(1)
	return k.KV.Delete(key)
}

func (k countedKV) ListKeys(page, count int, options ...pluginapi.ListKeysOption) ([]string, error) {
	k.c.lists.Add(1)
	return k.KV.ListKeys(page, count, options...)
}

func (k countedKV) SetAtomicWithRetries(key string, valueFunc func(oldValue []byte) (newValue any, err error)) error {
	k.c.atomics.Add(1)
	return k.KV.SetAtomicWithRetries(key, valueFunc)
}
