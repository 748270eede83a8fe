//go:build dynamodb

package dynamo_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
	"tailor/shared/segments/contract"
	segmentsdb "tailor/shared/segments/dynamo"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		table := env.Table("CustomersTable")
		return contract.Stores{
			Customers: &segmentsdb.CustomerScores{DB: env.DB, Table: table, Writers: 3},
			Runs:      &segmentsdb.SegmentRuns{DB: env.DB, Table: env.Table("ModelsTable")},
			Erase: func(ctx context.Context, customerID string) error {
				_, err := env.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: schema.CustomerKey(customerID)})
				return err
			},
		}
	})
}
