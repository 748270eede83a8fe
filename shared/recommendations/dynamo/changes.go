package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/catalog"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
)

// changeRow is a catalogue row as the changes index projects it: the item
// and its change time in Unix milliseconds.
type changeRow struct {
	catalog.Item
	ChangedAtMS int64 `dynamodbav:"chg_at"`
}

// CatalogChanges returns the catalogue rows changed at or after since (to
// the millisecond), deleted items as tombstones (Deleted set), each with
// its ChangedAt, oldest change first. It queries every shard of the items
// table's changes index, all pages, the shards concurrently. The index is
// eventually consistent: a poller should ask again from a little before
// the newest change it has seen, so a write that reached the index late is
// not missed.
func (s *Recommendations) CatalogChanges(ctx context.Context, since time.Time) ([]catalog.Item, error) {
	shards := make([][]catalog.Item, schema.ChangeShards)
	failures := make([]error, schema.ChangeShards)
	var wg sync.WaitGroup
	for shard := range schema.ChangeShards {
		wg.Go(func() { shards[shard], failures[shard] = s.shardChanges(ctx, shard, since) })
	}
	wg.Wait()
	for _, err := range failures {
		if err != nil {
			return nil, err
		}
	}
	out := slices.Concat(shards...)
	slices.SortFunc(out, func(a, b catalog.Item) int {
		return cmp.Or(a.ChangedAt.Compare(b.ChangedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// shardChanges reads one shard of the changes index from since on.
func (s *Recommendations) shardChanges(ctx context.Context, shard int, since time.Time) ([]catalog.Item, error) {
	pk := schema.ChangePK(shard)
	op := "read catalogue changes " + pk
	key := expression.Key(schema.AttrChange).Equal(expression.Value(pk)).
		And(expression.Key(schema.AttrChangedAt).GreaterThanEqual(expression.Value(since.UnixMilli())))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Items, IndexName: aws.String(schema.IndexChanges),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()})
	var out []catalog.Item
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify(op, err)
		}
		for _, row := range page.Items {
			var r changeRow
			if err := attributevalue.UnmarshalMap(row, &r); err != nil {
				return nil, fmt.Errorf("%s: decode: %w", op, err)
			}
			it := r.Item
			it.ChangedAt = time.UnixMilli(r.ChangedAtMS).UTC()
			out = append(out, it)
		}
	}
	return out, nil
}
