//go:build dynamodb

package edge_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
	"tailor/shared/segments"
	segmentsdb "tailor/shared/segments/dynamo"
)

// TestJobAndAPIAgainstDynamoDB runs the scenario on DynamoDB Local, where
// it also proves that the write-back leaves the profile and the aggregates
// alone and that a re-run leaves every item byte for byte the same.
func TestJobAndAPIAgainstDynamoDB(t *testing.T) {
	ctx := context.Background()
	env := ddbtest.New(t)
	table := env.Table("CustomersTable")
	store := &segmentsdb.CustomerScores{DB: env.DB, Table: table}
	f := newFixture(store, store, &segmentsdb.SegmentRuns{DB: env.DB, Table: env.Table("ModelsTable")})
	people := &customersdb.Customers{DB: env.DB, Table: table}
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	var c0 *customers.Customer
	var days0 map[string]customers.Amounts

	f.seed = func(t *testing.T, recs []segments.CustomerDays) {
		if err := store.SeedAggregates(ctx, recs, 4); err != nil {
			t.Fatal(err)
		}
		// One customer also has a profile with personal data, written
		// through the customers adapter as the API would.
		c0 = &customers.Customer{ID: recs[0].CustomerID, Profile: customers.Profile{Name: "Ada Lovelace", Email: "ada@example.com"},
			Version: 1, CreatedAt: asOf, UpdatedAt: asOf, Consent: map[string]customers.ConsentState{}, Tags: []string{"vip"}}
		days0 = recs[0].Days
		if err := people.Save(ctx, c0, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.scores = func(t *testing.T, id string) *customers.Scores {
		c, err := people.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Scores
	}
	f.snapshot = func(t *testing.T, recs []segments.CustomerDays) any {
		items := map[string]map[string]types.AttributeValue{}
		for _, r := range recs {
			out, err := env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: schema.CustomerKey(r.CustomerID)})
			if err != nil {
				t.Fatal(err)
			}
			items[r.CustomerID] = out.Item
		}
		return items
	}
	f.setDays = func(t *testing.T, id string, days map[string]customers.Amounts) {
		av, err := attributevalue.Marshal(days)
		if err != nil {
			t.Fatal(err)
		}
		upd, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("agg.days"), expression.Value(av))).Build()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: schema.CustomerKey(id),
			UpdateExpression: upd.Update(), ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values()}); err != nil {
			t.Fatal(err)
		}
	}
	f.afterFirstRun = func(t *testing.T) {
		// The profile and the aggregates are untouched; the scores are there.
		got, err := people.Get(ctx, c0.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Profile.Email != "ada@example.com" || got.Version != 1 || !reflect.DeepEqual(got.Aggregates.PurchaseDays, days0) ||
			got.Scores == nil || got.Scores.RunID != "2011-12-10" || got.Scores.Segment == "" {
			t.Fatalf("customer after the run: %+v scores %+v", got, got.Scores)
		}
	}
	scenario(t, f)
}
