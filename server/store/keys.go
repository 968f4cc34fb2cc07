// Package store keeps Account Sync's records in the plugin's KV store.
package store

// Every KV key the plugin uses is built here. The leading version lets a
// later release change a record's shape and migrate old keys.
const (
	keyVersion      = "v1_"
	keyChangePrefix = keyVersion + "change_"   // + change ID -> account.Change
	keyUserLatest   = keyVersion + "userlast_" // + user ID -> latest change ID
	keyUserLock     = keyVersion + "lock_"     // + user ID -> held while a change runs
)

func changeKey(id string) string         { return keyChangePrefix + id }
func userLatestKey(userID string) string { return keyUserLatest + userID }
func userLockKey(userID string) string   { return keyUserLock + userID }
