package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/events"
	"tailor/shared/platform/ddb"
)

// DayCounts returns every item's counters for one UTC day, optionally of
// one top category ("" for all), summed over the day's Shards partitions
// and sorted by item id. Ingestion spreads a day's counter writes over the
// shards so that neither a hot day nor a hot item is a hot partition; this
// is the reader's half of that bargain: Shards queries instead of one.
func (s *Events) DayCounts(ctx context.Context, day time.Time, category string) ([]events.ItemCounts, error) {
	var parts []events.ItemCounts
	for shard := range Shards {
		pk := fmt.Sprintf("%s%s#%d", pfxPopular, events.Day(day), shard)
		b := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pk)))
		if category != "" {
			b = b.WithFilter(expression.Name("category").Equal(expression.Value(category)))
		}
		expr, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("build query: %w", err)
		}
		p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Events, KeyConditionExpression: expr.KeyCondition(),
			FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, ddb.Classify("read popularity counters of "+events.Day(day), err)
			}
			for _, it := range page.Items {
				var c events.ItemCounts
				if err := attributevalue.UnmarshalMap(it, &c); err != nil {
					return nil, fmt.Errorf("decode counter: %w", err)
				}
				parts = append(parts, c)
			}
		}
	}
	return events.SumCounts(parts), nil
}
