package schema

import (
	"hash/fnv"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/platform/ddb"
)

// A customer's pending cart (events.Cart) lives in the customers table
// under pk=CART#<shard> sk=<customer_id>: ingestion writes it, the
// abandoned-cart job reads every shard with one Query each and deletes
// what it has announced, and erasure deletes it by key.
const (
	PfxCart = "CART#"
	// CartShards spreads the carts over that many partitions, so that
	// busy shops' writes do not all land on one.
	CartShards = 8
)

// CartShard is the shard of a customer's cart: FNV-1a (32 bits) of the
// customer id, modulo CartShards.
func CartShard(customerID string) int {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % CartShards)
}

// CartPK is the partition key of a cart shard, CART#<shard>.
func CartPK(shard int) string { return PfxCart + strconv.Itoa(shard) }

// CartKey is the key of a customer's pending cart.
func CartKey(customerID string) map[string]types.AttributeValue {
	return ddb.Key(CartPK(CartShard(customerID)), customerID)
}
