//go:build dynamodb

package dynamo_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers/contract"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		table := env.Table("CustomersTable")
		sealer, index := testKeys(t)
		put := func(t *testing.T, item map[string]types.AttributeValue) {
			t.Helper()
			if _, err := env.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
				t.Fatal(err)
			}
		}
		return contract.Stores{
			Customers: &customersdb.Customers{DB: env.DB, Table: table, PII: sealer, Index: index},
			Privacy:   &customersdb.Privacy{DB: env.DB, Customers: table, Events: env.Table("EventsTable")},
			// The items identity resolution writes on the customers table.
			Link: func(t *testing.T, anonID, customerID string) {
				now := time.Now().UTC()
				alias, err := attributevalue.MarshalMap(map[string]any{"pk": schema.PfxAlias + anonID, "sk": schema.SkAlias,
					"customer_id": customerID, "linked_at": now})
				if err != nil {
					t.Fatal(err)
				}
				link, err := attributevalue.MarshalMap(map[string]any{"pk": schema.PfxLink + customerID, "sk": anonID, "linked_at": now})
				if err != nil {
					t.Fatal(err)
				}
				put(t, alias)
				put(t, link)
			},
			TombstoneExpiry: func(t *testing.T, customerID string) (time.Time, bool) {
				out, err := env.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table,
					Key: schema.CustomerKey(customerID)})
				if err != nil {
					t.Fatal(err)
				}
				if _, erased := out.Item[schema.AttrErasedAt]; !erased {
					return time.Time{}, false
				}
				n, ok := out.Item["expires_at"].(*types.AttributeValueMemberN)
				if !ok {
					t.Fatalf("tombstone without expires_at: %v", out.Item)
				}
				sec, err := strconv.ParseInt(n.Value, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return time.Unix(sec, 0), true
			},
		}
	})
}
