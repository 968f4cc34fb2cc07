// Package store keeps Account Sync's records in the plugin's KV store.
package store

import (
	"hash/fnv"
	"strconv"
	"time"
)

// Every KV key the plugin uses is built here. The leading version lets a
// later release change a record's shape and migrate old keys.
const (
	keyVersion         = "v1_"
	keyChangePrefix    = keyVersion + "change_"          // + change ID -> account.Change
	keyUserLatest      = keyVersion + "userlast_"        // + user ID -> latest change ID
	keyUserLock        = keyVersion + "lock_"            // + user ID -> random token, held while a change runs
	keyLink            = keyVersion + "bind_"            // + Mattermost user ID -> account.Link
	keyZulipOwner      = keyVersion + "zbind_"           // + Zulip user ID -> Mattermost user ID (the reverse of keyLink)
	keyLinkCode        = keyVersion + "linkcode_"        // + user ID -> account.LinkCode (hash only)
	keyUsage           = keyVersion + "usage_"           // + user ID -> account.UserUsage
	keyOffer           = keyVersion + "offer_"           // + user ID -> account.Offer, the user's latest
	keyUnlinked        = keyVersion + "unlinked_"        // + user ID -> the Zulip user ID of the link the user removed: the scan does not link them again
	keyMigration       = keyVersion + "migration_"       // + migration ID -> migrationHead; + ID + "_items_" + chunk number -> []account.MigrationItem
	keyLatestMigration = keyVersion + "migration_latest" // -> the ID of the migration saved last
	keyActiveMigration = keyVersion + "migration_active" // -> the ID of the migration under way (started, not ended)
	keyOpenIndex       = keyVersion + "open"             // -> map of change ID -> account.OpenChange: the changes the job carries on (before sharding; read, moved and emptied)
	keyOpenShard       = keyVersion + "open_"            // + shard number -> map of change ID -> account.OpenChange, by a hash of the ID (before the index by day held them; read, moved and emptied)
	keyOpenFrom        = keyVersion + "openfrom"         // -> the first day (YYYYMMDD) of the index by day that may hold an open change
	keyDayShard        = keyVersion + "byday_"           // + day (YYYYMMDD, UTC) + "_" + shard number -> the changes created that day, newest first (dayEntry)
	keyDays            = keyVersion + "days"             // -> the days that have changes in keyDayShard, oldest first
	keyDaysBuilt       = keyVersion + "days_built"       // -> when the index by day was built from the records saved before it existed
	keyRetentionJob    = "retention"                     // cluster job name (pluginapi/cluster adds its own prefix)
	keySyncJob         = "sync"                          // cluster job name of the job that carries open changes on
	keyReconcileJob    = "reconcile"                     // cluster job name of the scan that forwards changes made elsewhere
	keyMigrationJob    = "migration"                     // cluster job name of the job that carries a domain migration on
	keyEventsMutex     = "zulip_events"                  // cluster mutex name (pluginapi/cluster adds its own prefix)
)

// When link codes were sent, kept apart from the pending code so that
// linking, unlinking and linking again never resets the count.
const (
	keyCodesSent = keyVersion + "linksent_"  // + user ID -> codesSent: codes sent for the user (before: account.LinkCode.Sent in keyLinkCode, read while this is absent)
	keyZulipSent = keyVersion + "zlinksent_" // + Zulip user ID -> codesSent: codes sent to that Zulip account, whoever asked
)

func changeKey(id string) string         { return keyChangePrefix + id }
func userLatestKey(userID string) string { return keyUserLatest + userID }
func userLockKey(userID string) string   { return keyUserLock + userID }
func linkKey(userID string) string       { return keyLink + userID }
func zulipOwnerKey(zulipID int) string   { return keyZulipOwner + strconv.Itoa(zulipID) }
func linkCodeKey(userID string) string   { return keyLinkCode + userID }
func usageKey(userID string) string      { return keyUsage + userID }
func offerKey(userID string) string      { return keyOffer + userID }
func migrationKey(id string) string      { return keyMigration + id }
func unlinkedKey(userID string) string   { return keyUnlinked + userID }
func migrationZulipOnlyKey(id string) string {
	return keyMigration + id + "_zulip_only"
}
func migrationItemsKey(id string, n int) string {
	return keyMigration + id + "_items_" + strconv.Itoa(n)
}
func codesSentKey(userID string) string { return keyCodesSent + userID }
func zulipSentKey(zulipID int) string   { return keyZulipSent + strconv.Itoa(zulipID) }

// legacyOpenShards is how many keys the index of open changes was spread
// over before the index by day held the open changes.
const legacyOpenShards = 32

func openShardKey(n int) string { return keyOpenShard + strconv.Itoa(n) }

// dayShards is how many keys each day of the index by day is spread over,
// for the same reason; a listing reads all of a day's.
const dayShards = 16

func dayShardKey(day string, n int) string { return keyDayShard + day + "_" + strconv.Itoa(n) }

// dayShardOf is the shard of a change ID within its day.
func dayShardOf(id string) int { return int(hashOf(id) % dayShards) }

// dayOf is the day (UTC) of t, as it appears in keys.
func dayOf(t time.Time) string { return t.UTC().Format("20060102") }

func hashOf(id string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32()
}

// Cluster job names.
const (
	RetentionJobKey = keyRetentionJob // the daily clean-up
	SyncJobKey      = keySyncJob      // carries open changes on
	ReconcileJobKey = keyReconcileJob // the scan: compares both systems, forwards changes made elsewhere
	MigrationJobKey = keyMigrationJob // carries a domain migration on
	EventsMutexKey  = keyEventsMutex  // held by the one node that follows Zulip's events
)
