//go:build dynamodb

package training_test

import (
	"context"
	"testing"
	"time"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/recommendations/service/servicetest"
)

func TestTrainStoresSnapshotAndRunOnDynamoDB(t *testing.T) {
	shop := servicetest.Seed(t)
	ctx := context.Background()
	testTrainStoresSnapshotAndRun(t, backend{store: shop.Training(), serving: shop.Recommendations(nil),
		hasRun: func(t *testing.T, asOf time.Time) bool {
			runs, err := ddbtest.ScanAll(ctx, shop.Env.DB, shop.Env.Table("ModelsTable"))
			if err != nil {
				t.Fatal(err)
			}
			_, ok := runs[ddbtest.RowKey{PK: "RUN#train", SK: asOf.UTC().Format(time.RFC3339)}]
			return ok
		},
	})
}

func TestTrainWithoutHistoryOnDynamoDB(t *testing.T) {
	env := ddbtest.New(t)
	shop := &servicetest.Shop{Env: env}
	items := &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}
	for _, id := range []string{"a", "b"} {
		if _, _, err := items.Put(context.Background(), catalog.Item{ID: id, Title: id, Currency: "GBP", InStock: true,
			UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	testTrainWithoutHistory(t, shop.Training(), shop.Recommendations(nil))
}
