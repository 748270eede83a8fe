//go:build dynamodb

package dynamo_test

import (
	"testing"

	"tailor/shared/platform/auth/contract"
	keysdb "tailor/shared/platform/auth/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		return contract.Stores{Keys: &keysdb.Keys{DB: env.DB, Table: env.Table("KeysTable")}}
	})
}
