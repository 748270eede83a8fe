// Package schema is the key layout of the items that more than one
// feature's adapter reads or writes: the customer record (profile,
// aggregates and scores live on one item), history and event records
// (written by ingestion, moved on identity merge, deleted by erasure),
// aliases and catalogue rows. A feature's own items keep their keys in
// the feature's dynamo package; only the shared ones are here, so that no
// adapter has to import another feature's adapter.
package schema

import (
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/platform/ddb"
)

// Partition key prefixes and sort keys of the shared items.
const (
	PfxCustomer = "C#" // Customers: the customer record, pk=C#<customer_id> sk=PROFILE
	PfxAnon     = "N#" // Customers: an anonymous visitor's aggregates, pk=N#<anonymous_id> sk=PROFILE
	PfxAlias    = "A#" // Customers: anonymous id -> customer, pk=A#<anonymous_id> sk=ALIAS
	PfxLink     = "L#" // Customers: a customer's merged anonymous ids, pk=L#<customer_id> sk=<anonymous_id>
	PfxOrder    = "O#" // Customers: one of a customer's order ids, pk=O#<customer_id> sk=<order_id> (no ceiling on orders)
	PfxEvent    = "E#" // Events: an event's claim (de-duplication) as earlier versions wrote it; now only erasure deletes them, pk=E#<event_id> sk=EVENT
	PfxHistory  = "H#" // Events: an owner's history pages, pk=H#C#<customer_id> | H#N#<anonymous_id>, sk=<newest time>#<first event_id>
	PfxItem     = "I#" // Items: a catalogue row, pk=I#<item_id> sk=ITEM
	SkProfile   = "PROFILE"
	SkAlias     = "ALIAS"
	SkEvent     = "EVENT"
	SkItem      = "ITEM"
)

// AttrErasedAt marks a customer record as the tombstone of an erased
// customer; ingestion refuses events for it and creation waits for it to
// be cleared.
const AttrErasedAt = "erased_at"

// Retention is the default lifetime (TTL) of event records and history:
// 400 days. An erased customer's tombstone lives as long, so no replayed
// event can outlive it.
const Retention = 400 * 24 * time.Hour

// CustomerKey is the key of a customer record.
func CustomerKey(customerID string) map[string]types.AttributeValue {
	return ddb.Key(PfxCustomer+customerID, SkProfile)
}

// The change feed of the catalogue. Every write of a catalogue row, a
// delete included, sets AttrChange to the row's shard (ChangePK of
// ChangeShard) and AttrChangedAt to the write time in Unix milliseconds.
// IndexChanges, a global secondary index of the items table keyed on the
// two, holds only catalogue rows (other items lack AttrChange); a reader
// finds what changed since a time with one Query per shard.
const (
	IndexChanges  = "changes"
	AttrChange    = "chg"
	AttrChangedAt = "chg_at"
	PfxChange     = "CHG#"
	// ChangeShards spreads the writes over that many index partitions,
	// so a bulk load does not all land on one.
	ChangeShards = 4
)

// A deleted catalogue row stays as a tombstone: AttrDeleted is true, its
// change time is the delete, and AttrExpiresAt (the items table's TTL,
// Unix seconds) removes it TombstoneLifetime later. Readers other than
// the change feed treat a tombstone as absent.
const (
	AttrDeleted       = "deleted"
	AttrExpiresAt     = "expires_at"
	TombstoneLifetime = 30 * 24 * time.Hour
)

// ChangeShard is the change-feed shard of an item: FNV-1a (32 bits) of its
// id, modulo ChangeShards.
func ChangeShard(itemID string) int {
	h := fnv.New32a()
	h.Write([]byte(itemID))
	return int(h.Sum32() % ChangeShards)
}

// ChangePK is the change-index partition key of a shard, CHG#<shard>.
func ChangePK(shard int) string { return PfxChange + strconv.Itoa(shard) }

// ItemKey is the key of a catalogue row.
func ItemKey(itemID string) map[string]types.AttributeValue {
	return ddb.Key(PfxItem+itemID, SkItem)
}
