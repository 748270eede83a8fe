//go:build dynamodb

package dynamo_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/events/contract"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/pii"
	"tailor/shared/platform/schema"
)

// sealer returns a personal-data sealer with fresh local keys, as every
// function wires one.
func sealer(t *testing.T) *pii.Sealer {
	t.Helper()
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	keys, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	return pii.NewSealer(keys)
}

// open wires the adapter to fresh tables, with free text sealed as in
// production. The hooks write and read the items other features own
// (catalogue rows, tombstones, aggregates on customer records) directly,
// as those features' adapters lay them out.
func open(t *testing.T) contract.Stores {
	env := ddbtest.New(t)
	ctx := context.Background()
	seal := sealer(t)
	customersTable, eventsTable := env.Table("CustomersTable"), env.Table("EventsTable")
	s := &eventsdb.Events{DB: env.DB, Events: eventsTable, Customers: customersTable, Items: env.Table("ItemsTable"),
		Now: func() time.Time { return contract.Now }, Backoff: time.Millisecond, PII: seal}
	put := func(t *testing.T, table string, row map[string]any) {
		if err := ddbtest.PutRaw(ctx, env.DB, table, row); err != nil {
			t.Fatal(err)
		}
	}
	return contract.Stores{
		Events: s,
		History: func(now func() time.Time) contract.History {
			return &eventsdb.History{DB: env.DB, Table: eventsTable, Now: now, PII: seal}
		},
		SetCategory: func(t *testing.T, itemID, category string) {
			row := map[string]any{"pk": schema.PfxItem + itemID, "sk": schema.SkItem, "item_id": itemID, "category": []string{}}
			if category != "" {
				row["category"] = []string{category, "Sub"}
			}
			put(t, env.Table("ItemsTable"), row)
		},
		DeleteItem: func(t *testing.T, itemID string) {
			upd, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name(schema.AttrDeleted), expression.Value(true)).
				Set(expression.Name(schema.AttrChange), expression.Value(schema.ChangePK(schema.ChangeShard(itemID)))).
				Set(expression.Name(schema.AttrChangedAt), expression.Value(contract.Now.UnixMilli()))).Build()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(env.Table("ItemsTable")),
				Key: schema.ItemKey(itemID), UpdateExpression: upd.Update(), ExpressionAttributeNames: upd.Names(),
				ExpressionAttributeValues: upd.Values()}); err != nil {
				t.Fatal(err)
			}
		},
		Erase: func(t *testing.T, customerID string) {
			put(t, customersTable, map[string]any{"pk": schema.PfxCustomer + customerID, "sk": schema.SkProfile,
				schema.AttrErasedAt: contract.Now})
		},
		Aggregates: func(t *testing.T, o events.Owner) *customers.Aggregates {
			return aggregatesOf(t, env, s, o)
		},
	}
}

// aggregatesOf reads an owner's aggregates from its record on the
// customers table, with a customer's order ids read from its order items
// as a fold in memory holds them; nil when there are none.
func aggregatesOf(t *testing.T, env *ddbtest.Env, s *eventsdb.Events, o events.Owner) *customers.Aggregates {
	t.Helper()
	pk := schema.PfxCustomer + o.CustomerID
	if o.Anonymous() {
		pk = schema.PfxAnon + o.AnonymousID
	}
	out, err := env.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(env.Table("CustomersTable")),
		Key: ddb.Key(pk, schema.SkProfile), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Agg *customers.Aggregates `dynamodbav:"agg"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		t.Fatal(err)
	}
	if v.Agg == nil {
		return nil
	}
	a := v.Agg.Clone()
	if !o.Anonymous() {
		if a.OrderIDs, err = s.OrderIDs(context.Background(), o.CustomerID); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestContract(t *testing.T) { contract.Run(t, open) }
