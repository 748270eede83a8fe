//go:build dynamodb

package dynamo

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	"tailor/shared/customers"
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
		serving := &Recommendations{DB: env.DB, Customers: seed.customers, Items: seed.items, Models: seed.models}
		return contract.Stores{
			Serving: serving,
			Training: &Training{DB: env.DB, Customers: seed.customers, Items: seed.items, Models: seed.models, Segments: 3,
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

// PutItem writes a live catalogue row as the catalogue's adapter leaves
// it: filed in the change feed at its UpdatedAt.
func (s *seeder) PutItem(ctx context.Context, it catalog.Item) error {
	row := schema.ItemKey(it.ID)
	row[schema.AttrChange] = &types.AttributeValueMemberS{Value: schema.ChangePK(schema.ChangeShard(it.ID))}
	row[schema.AttrChangedAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.UpdatedAt.UnixMilli(), 10)}
	return s.put(ctx, s.items, row, it)
}

// TombstoneItem turns a catalogue row into a tombstone as the catalogue's
// adapter deletes an item.
func (s *seeder) TombstoneItem(ctx context.Context, itemID string, at time.Time) error {
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name(schema.AttrDeleted), expression.Value(true)).
		Set(expression.Name(schema.AttrChange), expression.Value(schema.ChangePK(schema.ChangeShard(itemID)))).
		Set(expression.Name(schema.AttrChangedAt), expression.Value(at.UnixMilli())).
		Set(expression.Name(schema.AttrExpiresAt), expression.Value(at.Add(schema.TombstoneLifetime).Unix()))).
		WithCondition(expression.Name(ddb.AttrPK).AttributeExists()).Build()
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.items, Key: schema.ItemKey(itemID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()})
	return err
}

func (s *seeder) DeleteItem(ctx context.Context, itemID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.items, Key: schema.ItemKey(itemID)})
	return err
}
