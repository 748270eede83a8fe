//go:build dynamodb

package dynamo_test

import (
	"testing"

	"tailor/shared/catalog/contract"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		return contract.Stores{Items: &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}}
	})
}
