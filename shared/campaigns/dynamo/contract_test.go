//go:build dynamodb

package dynamo_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/campaigns/contract"
	campaignsdb "tailor/shared/campaigns/dynamo"
	"tailor/shared/campaigns/memory"
	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/pii"
	"tailor/shared/platform/schema"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		sealer := testSealer(t)
		people, table := env.Table("CustomersTable"), env.Table("CampaignsTable")
		return contract.Stores{
			Table:       &campaignsdb.Table{DB: env.DB, Table: table},
			Memberships: &campaignsdb.Memberships{DB: env.DB, Table: table},
			Customers:   &campaignsdb.Customers{DB: env.DB, Table: people, PII: sealer, Segments: 3},
			Seed: func(t *testing.T, recs ...memory.Record) {
				t.Helper()
				seed(t, env, people, sealer, recs)
			},
		}
	})
}

func testSealer(t *testing.T) *pii.Sealer {
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	l, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	return pii.NewSealer(l)
}

// seed writes customer records as the customers function (profile,
// consent and tags, personal fields sealed), ingestion (purchase days,
// campaign engagement) and the segment job (scores) do, and erased
// customers' tombstones as erasure leaves them.
func seed(t *testing.T, env *ddbtest.Env, table string, sealer *pii.Sealer, recs []memory.Record) {
	t.Helper()
	ctx := context.Background()
	store := &customersdb.Customers{DB: env.DB, Table: table, PII: sealer}
	now := time.Now().UTC()
	for _, r := range recs {
		if r.Erased {
			item, err := attributevalue.MarshalMap(map[string]any{"pk": schema.PfxCustomer + r.CustomerID, "sk": schema.SkProfile,
				schema.AttrErasedAt: now, "expires_at": now.Add(schema.Retention).Unix()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		c := &customers.Customer{ID: r.CustomerID, Consent: r.Consent, Tags: r.Tags, Version: 1, CreatedAt: now, UpdatedAt: now,
			Profile: customers.Profile{Country: r.Country, Email: r.Contact.Email, Phone: r.Contact.Phone}}
		if c.Consent == nil {
			c.Consent = map[string]customers.ConsentState{}
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		if err := store.Save(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		agg := map[string]any{"days": r.PurchaseDays}
		if r.Campaigns != nil {
			agg["camps"] = r.Campaigns
		}
		upd := expression.Set(expression.Name("agg"), expression.Value(agg))
		if r.Scores != nil {
			upd = upd.Set(expression.Name("scores"), expression.Value(r.Scores))
		}
		expr, err := expression.NewBuilder().WithUpdate(upd).Build()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: schema.CustomerKey(r.CustomerID),
			UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}); err != nil {
			t.Fatal(err)
		}
	}
}
