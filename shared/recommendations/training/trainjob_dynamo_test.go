//go:build dynamodb

package training_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"tailor/shared/platform/ddb/ddbtest"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/service/servicetest"
)

// snapshot reads every row the job owns: neighbour lists (items table) and
// popularity lists (models table), keyed by pk|sk.
func snapshot(t *testing.T, shop *servicetest.Shop) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"ItemsTable", "ModelsTable"} {
		rows, err := ddbtest.ScanAll(context.Background(), shop.Env.DB, shop.Env.Table(table))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range rows {
			if table == "ItemsTable" && !slices.Contains([]string{"NEIGHBOURS"}, k.SK) {
				continue
			}
			if k.PK == "RUN#train" {
				continue
			}
			out[k.PK+"|"+k.SK] = v
		}
	}
	return out
}

func TestTrainWritesListsAndRunAndIsIdempotentOnDynamoDB(t *testing.T) {
	shop := servicetest.Seed(t)
	ctx := context.Background()
	testTrainWritesListsAndRunAndIsIdempotent(t, backend{store: shop.Training(), serving: shop.Recommendations(nil),
		leftovers: func(t *testing.T) {
			if err := ddbtest.PutRaw(ctx, shop.Env.DB, shop.Env.Table("ItemsTable"), map[string]any{
				"pk": "I#gone", "sk": "NEIGHBOURS", "item_id": "gone", "nb": []map[string]any{{"i": servicetest.Mug, "s": 0.5}}}); err != nil {
				t.Fatal(err)
			}
			if err := ddbtest.PutRaw(ctx, shop.Env.DB, shop.Env.Table("ModelsTable"), map[string]any{
				"pk": "POPULAR#30d", "sk": "C#Gone", "window_days": 30, "category": "Gone", "items": []map[string]any{{"i": "gone", "s": 1}}}); err != nil {
				t.Fatal(err)
			}
		},
		hasRun: func(t *testing.T, asOf time.Time) bool {
			runs, err := ddbtest.ScanAll(ctx, shop.Env.DB, shop.Env.Table("ModelsTable"))
			if err != nil {
				t.Fatal(err)
			}
			_, ok := runs[ddbtest.RowKey{PK: "RUN#train", SK: asOf.UTC().Format(time.RFC3339)}]
			return ok
		},
		rows: func(t *testing.T) map[string]string { return snapshot(t, shop) },
	})
}

func TestTrainWithoutHistoryClearsOldListsOnDynamoDB(t *testing.T) {
	env := ddbtest.New(t)
	ctx := context.Background()
	if err := ddbtest.PutRaw(ctx, env.DB, env.Table("ItemsTable"), map[string]any{
		"pk": "I#old", "sk": "NEIGHBOURS", "item_id": "old"}); err != nil {
		t.Fatal(err)
	}
	ts := &recodb.Training{DB: env.DB, Events: env.Table("EventsTable"), Items: env.Table("ItemsTable"), Models: env.Table("ModelsTable")}
	testTrainWithoutHistoryClearsOldLists(t, ts, func(t *testing.T) int {
		rows, err := ddbtest.ScanAll(ctx, env.DB, env.Table("ItemsTable"))
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	})
}
