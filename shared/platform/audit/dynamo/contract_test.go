//go:build dynamodb

package dynamo_test

import (
	"testing"

	"tailor/shared/platform/audit/contract"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Stores {
		env := ddbtest.New(t)
		return contract.Stores{Audit: &auditdb.Audit{DB: env.DB, Table: env.Table("AuditTable")}}
	})
}
