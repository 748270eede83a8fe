//go:build dynamodb

package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/contract"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		seed := &seeder{db: env.DB, customers: env.Table("CustomersTable"), items: env.Table("ItemsTable"),
			events: env.Table("EventsTable"), models: env.Table("ModelsTable")}
		return contract.Stores{
			Serving: &Recommendations{DB: env.DB, Customers: seed.customers, Items: seed.items, Models: seed.models},
			Training: &Training{DB: env.DB, Events: seed.events, Items: seed.items, Models: seed.models, Segments: 3,
				Writers: 2},
			Seed: seed,
		}
	})
}

// seeder writes the rows other features' adapters own, in their layout.
type seeder struct {
	db                               *dynamodb.Client
	customers, items, events, models string
}

func (s *seeder) put(ctx context.Context, table string, key map[string]types.AttributeValue, v any) error {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		return err
	}
	for k, x := range key {
		av[k] = x
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: av})
	return err
}

// PutShopper writes a customer record with a profile attribute the
// request must not read, its aggregates (when set) and its consent.
func (s *seeder) PutShopper(ctx context.Context, customerID string, sh recommendations.Shopper) error {
	return s.put(ctx, s.customers, schema.CustomerKey(customerID), struct {
		Email   string                            `dynamodbav:"email"`
		Agg     *customers.Aggregates             `dynamodbav:"agg,omitempty"`
		Consent map[string]customers.ConsentState `dynamodbav:"consent,omitempty"`
	}{"someone@example.com", sh.Aggregates, sh.Consent})
}

func (s *seeder) PutItem(ctx context.Context, it catalog.Item) error {
	return s.put(ctx, s.items, schema.ItemKey(it.ID), it)
}

func (s *seeder) DeleteItem(ctx context.Context, itemID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.items, Key: schema.ItemKey(itemID)})
	return err
}

// AddHistory writes each entry as ingestion does: the history item and,
// in the same table, the event record the training Scan must skip.
func (s *seeder) AddHistory(ctx context.Context, ins ...recommendations.Interaction) error {
	for n, in := range ins {
		e := events.Event{ID: fmt.Sprintf("ev-%d", n), Type: events.Type(in.Type), ItemID: in.ItemID, Quantity: in.Quantity, Time: in.Time}
		if err := s.put(ctx, s.events, ddb.Key(schema.PfxHistory+in.CustomerID, events.SortKeyTime(in.Time)+"#"+e.ID), e); err != nil {
			return err
		}
		if err := s.put(ctx, s.events, ddb.Key(schema.PfxEvent+e.ID, schema.SkEvent), e); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) Runs(ctx context.Context) ([]recommendations.Run, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pkTrainRuns))).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.models, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil {
		return nil, err
	}
	var rows []runItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rows); err != nil {
		return nil, err
	}
	runs := make([]recommendations.Run, 0, len(rows))
	for _, r := range rows {
		runs = append(runs, recommendations.Run{AsOf: r.AsOf, StartedAt: r.StartedAt, DurationMS: r.DurationMS,
			Interactions: r.Interactions, Catalog: r.Catalog, Items: r.Items, Pairs: r.Pairs, PopularLists: r.PopularLists,
			Removed: r.Removed})
	}
	return runs, nil
}
