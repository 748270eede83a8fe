package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
)

// Snapshots are stored in the models table:
//
//	newest snapshot's reference   pk=SNAPSHOT  sk=LATEST  (as_of, bytes, chunks, sha256, previous)
//	a snapshot's bytes            pk=SNAPSHOT#<as_of RFC 3339>#<sha256[:16]>  sk=<chunk number, 4 digits>  of=<chunks>  b=<bytes>
//
// A snapshot's partition is named by its content, so storing a new one
// never changes the bytes a reader is loading; the reference is written
// after every chunk, and the snapshot before the previous one is deleted.
const (
	pkSnapshot  = "SNAPSHOT"
	skLatest    = "LATEST"
	pfxSnapshot = "SNAPSHOT#"
)

// refItem is the stored reference of the newest snapshot.
type refItem struct {
	PK       string                       `dynamodbav:"pk"`
	SK       string                       `dynamodbav:"sk"`
	AsOf     time.Time                    `dynamodbav:"as_of"`
	Bytes    int64                        `dynamodbav:"bytes"`
	Chunks   int                          `dynamodbav:"chunks"`
	SHA256   string                       `dynamodbav:"sha256"`
	Previous *recommendations.SnapshotRef `dynamodbav:"previous,omitempty"`
}

func snapshotPK(ref recommendations.SnapshotRef) string {
	return pfxSnapshot + ref.AsOf.UTC().Format(time.RFC3339) + "#" + ref.SHA256[:min(16, len(ref.SHA256))]
}

func chunkSK(n int) string { return fmt.Sprintf("%04d", n) }

// latest reads the stored reference; ok is false when there is none.
func latest(ctx context.Context, db ddb.DB, table string) (refItem, bool, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: ddb.Key(pkSnapshot, skLatest)})
	if err != nil {
		return refItem{}, false, ddb.Classify("read snapshot reference", err)
	}
	if len(out.Item) == 0 {
		return refItem{}, false, nil
	}
	var r refItem
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return refItem{}, false, fmt.Errorf("decode snapshot reference: %w", err)
	}
	return r, true, nil
}

func (r refItem) ref() recommendations.SnapshotRef {
	return recommendations.SnapshotRef{AsOf: r.AsOf.UTC(), Bytes: r.Bytes, Chunks: r.Chunks, SHA256: r.SHA256}
}

// LatestSnapshot reads the newest snapshot's reference with one eventually
// consistent GetItem; ok is false before the first training run.
func (s *Recommendations) LatestSnapshot(ctx context.Context) (recommendations.SnapshotRef, bool, error) {
	r, ok, err := latest(ctx, s.DB, s.Models)
	return r.ref(), ok, err
}

// LoadSnapshot reads a snapshot's chunks with one Query (paged by 1 MB)
// and joins them. A chunk missing or out of place is an error; the caller
// checks the SHA-256.
func (s *Recommendations) LoadSnapshot(ctx context.Context, ref recommendations.SnapshotRef) ([]byte, error) {
	op := "load snapshot " + ref.AsOf.UTC().Format(time.RFC3339)
	if ref.Chunks <= 0 {
		return nil, fmt.Errorf("%s: no chunks", op)
	}
	key := expression.Key(ddb.AttrPK).Equal(expression.Value(snapshotPK(ref))).
		And(expression.Key(ddb.AttrSK).Between(expression.Value(chunkSK(0)), expression.Value(chunkSK(ref.Chunks-1))))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	data := make([]byte, 0, ref.Bytes)
	n := 0
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Models, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify(op, err)
		}
		for _, it := range out.Items {
			var c struct {
				SK string `dynamodbav:"sk"`
				Of int    `dynamodbav:"of"`
				B  []byte `dynamodbav:"b"`
			}
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return nil, fmt.Errorf("%s: decode chunk: %w", op, err)
			}
			if c.SK != chunkSK(n) || c.Of != ref.Chunks {
				return nil, fmt.Errorf("%s: chunk %s of %d where %s of %d was expected", op, c.SK, c.Of, chunkSK(n), ref.Chunks)
			}
			data = append(data, c.B...)
			n++
		}
	}
	if n != ref.Chunks || int64(len(data)) != ref.Bytes {
		return nil, fmt.Errorf("%s: %d chunks, %d bytes; the reference says %d and %d", op, n, len(data), ref.Chunks, ref.Bytes)
	}
	return data, nil
}

// PutSnapshot writes the snapshot's chunks, then the reference naming it
// newest (with the one it replaces as previous), then deletes the chunks
// of the snapshot before that. Readers loading the previous snapshot are
// not disturbed; one loading an older one fails its checksum and retries.
func (s *Training) PutSnapshot(ctx context.Context, ref recommendations.SnapshotRef, data []byte) (recommendations.SnapshotRef, error) {
	ref.Chunks = max(1, (len(data)+recommendations.SnapshotChunkBytes-1)/recommendations.SnapshotChunkBytes)
	pk := snapshotPK(ref)
	reqs := make([]types.WriteRequest, 0, ref.Chunks)
	for n := range ref.Chunks {
		chunk := data[n*recommendations.SnapshotChunkBytes : min(len(data), (n+1)*recommendations.SnapshotChunkBytes)]
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			ddb.AttrPK: &types.AttributeValueMemberS{Value: pk}, ddb.AttrSK: &types.AttributeValueMemberS{Value: chunkSK(n)},
			"of": &types.AttributeValueMemberN{Value: strconv.Itoa(ref.Chunks)}, "b": &types.AttributeValueMemberB{Value: chunk}}}})
	}
	// A chunk is up to 350 KB: one per BatchWriteItem request stays under
	// its 16 MB limit whatever the batch size, so write them in parallel.
	if err := (ddb.Retry{}).BatchWrite(ctx, s.DB, s.Models, reqs, s.writers()); err != nil {
		return ref, fmt.Errorf("write snapshot chunks: %w", err)
	}
	old, hadOld, err := latest(ctx, s.DB, s.Models)
	if err != nil {
		return ref, err
	}
	next := refItem{PK: pkSnapshot, SK: skLatest, AsOf: ref.AsOf.UTC(), Bytes: ref.Bytes, Chunks: ref.Chunks, SHA256: ref.SHA256}
	if hadOld && snapshotPK(old.ref()) != pk {
		prev := old.ref()
		next.Previous = &prev
	} else if hadOld {
		next.Previous = old.Previous
	}
	av, err := attributevalue.MarshalMap(next)
	if err != nil {
		return ref, fmt.Errorf("encode snapshot reference: %w", err)
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Models, Item: av}); err != nil {
		return ref, ddb.Classify("write snapshot reference", err)
	}
	if hadOld && old.Previous != nil {
		if stale := snapshotPK(*old.Previous); stale != pk && (next.Previous == nil || stale != snapshotPK(*next.Previous)) {
			if err := s.deletePartition(ctx, s.Models, stale); err != nil {
				return ref, fmt.Errorf("delete snapshot %s: %w", stale, err)
			}
		}
	}
	return ref, nil
}

// deletePartition deletes every item of one partition of table.
func (s *Training) deletePartition(ctx context.Context, table, pk string) error {
	keys, err := s.listKeys(ctx, pk)
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, 0, len(keys))
	for _, sk := range keys {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: ddb.Key(pk, sk)}})
	}
	return (ddb.Retry{}).BatchWrite(ctx, s.DB, table, reqs, s.writers())
}

// recordRow is the part of a customer record training reads.
type recordRow struct {
	PK  string `dynamodbav:"pk"`
	Agg *struct {
		Recent    []customers.Interaction            `dynamodbav:"recent"`
		Purchased map[string]customers.ItemPurchases `dynamodbav:"purchased"`
	} `dynamodbav:"agg"`
}

// Histories reads every customer record (pk=C#… and anonymous visitors'
// pk=N#…, sk=PROFILE) of the customers table by parallel Scan, projected
// to the recent interactions and purchase summaries. An anonymous
// visitor's record is a history too: their sessions add co-occurrences.
// Aliases, links and erased customers' tombstones are filtered out.
func (s *Training) Histories(ctx context.Context) ([]recommendations.History, error) {
	filter := expression.Name(ddb.AttrSK).Equal(expression.Value(schema.SkProfile)).
		And(expression.AttributeExists(expression.Name("agg"))).
		And(expression.AttributeNotExists(expression.Name(schema.AttrErasedAt)))
	expr, err := expression.NewBuilder().WithFilter(filter).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrPK), expression.Name("agg.recent"), expression.Name("agg.purchased"))).Build()
	if err != nil {
		return nil, fmt.Errorf("scan customer records: build expression: %w", err)
	}
	parts := make([][]recommendations.History, s.segments())
	err = ddb.ParallelScan(ctx, s.DB, &dynamodb.ScanInput{TableName: &s.Customers, FilterExpression: expr.Filter(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()},
		s.segments(), func(seg int, items []map[string]types.AttributeValue) error {
			for _, it := range items {
				var r recordRow
				if err := attributevalue.UnmarshalMap(it, &r); err != nil {
					return fmt.Errorf("decode customer record: %w", err)
				}
				if r.Agg == nil {
					continue
				}
				h := recommendations.History{CustomerID: r.PK}
				for _, e := range r.Agg.Recent {
					h.Recent = append(h.Recent, recommendations.Event{ItemID: e.ItemID, Type: recommendations.EventType(e.Type), Time: e.Time})
				}
				for _, id := range slices.Sorted(maps.Keys(r.Agg.Purchased)) {
					p := r.Agg.Purchased[id]
					h.Purchases = append(h.Purchases, recommendations.PurchaseSummary{ItemID: id, Count: int(p.Count), Last: p.Last})
				}
				parts[seg] = append(parts[seg], h)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(parts...)
	// Scan order depends on the segments' timing; training must not.
	slices.SortFunc(out, func(a, b recommendations.History) int { return cmp.Compare(a.CustomerID, b.CustomerID) })
	return out, nil
}

// LiveCatalog reads every live catalogue row of the items table by
// parallel Scan (tombstones and other items filtered out).
func (s *Training) LiveCatalog(ctx context.Context) ([]catalog.Item, error) {
	filter := expression.Name(ddb.AttrSK).Equal(expression.Value(schema.SkItem)).
		And(expression.AttributeNotExists(expression.Name(schema.AttrDeleted)))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		return nil, fmt.Errorf("scan catalogue: build expression: %w", err)
	}
	parts := make([][]catalog.Item, s.segments())
	err = ddb.ParallelScan(ctx, s.DB, &dynamodb.ScanInput{TableName: &s.Items, FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()},
		s.segments(), func(seg int, items []map[string]types.AttributeValue) error {
			for _, it := range items {
				var c catalog.Item
				if err := attributevalue.UnmarshalMap(it, &c); err != nil {
					return fmt.Errorf("decode catalogue row: %w", err)
				}
				parts[seg] = append(parts[seg], c)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(parts...)
	slices.SortFunc(out, func(a, b catalog.Item) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
