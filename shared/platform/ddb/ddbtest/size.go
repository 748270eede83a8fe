package ddbtest

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemSize estimates an item's size by DynamoDB's rules: attribute names
// plus values (strings and binaries by length, numbers about one byte per
// two digits, maps and lists three bytes plus one per element).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(v.Value)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += (len(s)+1)/2 + 1
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	return 0
}

// updateSize estimates the size of the item an update writes: its key and
// the values it sets. Exact for Tailor's updates, which set whole
// attributes on items that hold nothing else; a lower bound otherwise.
func updateSize(key, values map[string]types.AttributeValue, names map[string]string) int {
	n := itemSize(key)
	for _, v := range values {
		n += valueSize(v)
	}
	for _, name := range names {
		n += len(name)
	}
	return n
}

// units is capacity per started KiB.
func units(size int) float64 { return math.Ceil(float64(max(size, 1)) / 1024) }

// modelWrite is the write capacity DynamoDB bills for a request by its
// published rules: one unit per KiB written, two inside a transaction.
// DynamoDB Local's own figure for transactions counts one item per table.
func modelWrite(in any) float64 {
	switch in := in.(type) {
	case *dynamodb.PutItemInput:
		return units(itemSize(in.Item))
	case *dynamodb.UpdateItemInput:
		return units(updateSize(in.Key, in.ExpressionAttributeValues, in.ExpressionAttributeNames))
	case *dynamodb.DeleteItemInput:
		return 1
	case *dynamodb.BatchWriteItemInput:
		w := 0.0
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					w += units(itemSize(r.PutRequest.Item))
				} else {
					w++
				}
			}
		}
		return w
	case *dynamodb.TransactWriteItemsInput:
		w := 0.0
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				w += 2 * units(itemSize(it.Put.Item))
			case it.Update != nil:
				w += 2 * units(updateSize(it.Update.Key, it.Update.ExpressionAttributeValues, it.Update.ExpressionAttributeNames))
			default: // Delete, ConditionCheck
				w += 2
			}
		}
		return w
	}
	return 0
}

// readUnits is read capacity for size bytes read at once: one unit per
// started 4 KiB strongly consistent, half that eventually consistent, and
// never less than one such unit (a key that finds nothing is billed too).
func readUnits(size int, consistent *bool) float64 {
	u := math.Ceil(float64(max(size, 1)) / 4096)
	if consistent == nil || !*consistent {
		return u / 2
	}
	return u
}

// modelRead is the read capacity DynamoDB bills for a request by its
// published rules, from the items it returned: each item of a GetItem or
// BatchGetItem by itself, a Query's items by their total size. Items
// returned under a projection count only what was returned, so the model
// is a lower bound for them (DynamoDB bills the whole item).
func modelRead(in, out any) float64 {
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		return readUnits(itemSize(out.(*dynamodb.GetItemOutput).Item), in.ConsistentRead)
	case *dynamodb.QueryInput:
		n := 0
		for _, it := range out.(*dynamodb.QueryOutput).Items {
			n += itemSize(it)
		}
		return readUnits(n, in.ConsistentRead)
	case *dynamodb.BatchGetItemInput:
		o := out.(*dynamodb.BatchGetItemOutput)
		r := 0.0
		for table, ka := range in.RequestItems {
			found := o.Responses[table]
			for _, it := range found {
				r += readUnits(itemSize(it), ka.ConsistentRead)
			}
			missing := len(ka.Keys) - len(found) - len(o.UnprocessedKeys[table].Keys)
			r += float64(max(missing, 0)) * readUnits(0, ka.ConsistentRead)
		}
		return r
	}
	return 0
}
