//go:build dynamodb

package dynamo_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/events/contract"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

// TestCartsContract runs the carts suite on fresh tables; erasure is the
// customers feature's own, so the suite proves it deletes the cart.
func TestCartsContract(t *testing.T) {
	contract.RunCarts(t, func(t *testing.T) contract.CartStores {
		env := ddbtest.New(t)
		customersTable := env.Table("CustomersTable")
		s := &eventsdb.Carts{DB: env.DB, Table: customersTable}
		return contract.CartStores{Carts: s, Reach: s,
			SetConsent: func(t *testing.T, customerID string, consent map[string]customers.ConsentState) {
				item, err := attributevalue.MarshalMap(struct {
					PK      string                            `dynamodbav:"pk"`
					SK      string                            `dynamodbav:"sk"`
					Consent map[string]customers.ConsentState `dynamodbav:"consent"`
				}{schema.PfxCustomer + customerID, schema.SkProfile, consent})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := env.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(customersTable), Item: item}); err != nil {
					t.Fatal(err)
				}
			},
			Erase: func(t *testing.T, customerID string) {
				p := &customersdb.Privacy{DB: env.DB, Customers: customersTable, Events: env.Table("EventsTable")}
				if _, err := p.Erase(context.Background(), customerID); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
