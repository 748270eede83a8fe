package training_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"tailor/shared/platform/apigw/apigwtest"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/errs"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/service/servicetest"
	"tailor/shared/recommendations/training"
	"testing"
	"time"
)

func sample(t *testing.T, name string) json.RawMessage { return apigwtest.File(t, "train", name) }

func TestAsOf(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		payload string
		want    time.Time
		invalid bool
	}{
		{"sample as_of", string(sample(t, "as_of.json")), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), false},
		{"sample schedule", string(sample(t, "scheduled.json")), time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC), false},
		{"empty object", `{}`, now, false},
		{"no payload", ``, now, false},
		{"offset time", `{"as_of":"2011-12-10T01:00:00+01:00"}`, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC), false},
		{"not a time", `{"as_of":"yesterday"}`, time.Time{}, true},
		{"typo", `{"asof":"2011-12-10T00:00:00Z"}`, time.Time{}, true},
		{"array", `[]`, time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := training.AsOf([]byte(tc.payload), now)
			if tc.invalid {
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("err = %v, want Invalid", err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("AsOf = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

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

func TestTrainWritesListsAndRunAndIsIdempotent(t *testing.T) {
	shop := servicetest.Seed(t)
	ts := shop.Training()
	ctx := context.Background()

	// Leftovers of an earlier model: a neighbour list of an item nobody
	// touches any more and a popularity list of a category that sold
	// nothing this month. A run must remove both.
	rec := shop.Recommendations(nil)
	if err := ddbtest.PutRaw(ctx, shop.Env.DB, shop.Env.Table("ItemsTable"), map[string]any{
		"pk": "I#gone", "sk": "NEIGHBOURS", "item_id": "gone", "nb": []map[string]any{{"i": servicetest.Mug, "s": 0.5}}}); err != nil {
		t.Fatal(err)
	}
	if err := ddbtest.PutRaw(ctx, shop.Env.DB, shop.Env.Table("ModelsTable"), map[string]any{
		"pk": "POPULAR#30d", "sk": "C#Gone", "window_days": 30, "category": "Gone", "items": []map[string]any{{"i": "gone", "s": 1}}}); err != nil {
		t.Fatal(err)
	}

	clock := servicetest.Now.Add(13 * time.Hour)
	job := &training.Job{Store: ts, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return clock }}
	run, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// 14 items were touched before as_of; the new mug never was. The
	// history holds every view and purchase (the customer's cart add is
	// after as_of and ignored by training, not by the scan).
	if !run.AsOf.Equal(asOf) || run.Items != 14 || run.Catalog != len(servicetest.Items()) || run.Removed != 1 ||
		run.Interactions != len(servicetest.Events()) || run.Pairs == 0 || run.PopularLists == 0 {
		t.Fatalf("run = %+v", run)
	}

	lists, err := rec.Lists(ctx, []string{servicetest.Mug, "gone", servicetest.NewMug}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lists.Models["gone"]; ok {
		t.Fatal("the stale neighbour list of an item without interactions survived the run")
	}
	if _, ok := lists.Models[servicetest.NewMug]; ok {
		t.Fatal("an item without interactions got a neighbour list")
	}
	mug := lists.Models[servicetest.Mug].Neighbours
	if len(mug) < 3 || mug[0].ItemID != servicetest.Spoon && mug[0].ItemID != servicetest.Teapot {
		t.Fatalf("mug neighbours = %v; want spoon and teapot (bought with it by six) first", mug)
	}
	// Training-time attributes travel with the list.
	if a := lists.Trained[servicetest.Teapot]; a.Category != "Home/Kitchen" || a.Brand != "Acme" || a.PriceMinor != 2500 {
		t.Fatalf("teapot attributes in the list = %+v", a)
	}
	pop, err := rec.Popular(ctx, []recodb.PopularKey{{WindowDays: 30}, {WindowDays: 30, Category: "Home"},
		{WindowDays: 30, Category: "Gone"}, {WindowDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pop[recodb.PopularKey{WindowDays: 30, Category: "Gone"}]; ok {
		t.Fatal("a stale popularity list survived the run")
	}
	home := pop[recodb.PopularKey{WindowDays: 30, Category: "Home"}]
	if len(home.Items) == 0 || home.Items[0].ItemID != servicetest.Mug || !home.AsOf.Equal(asOf) {
		t.Fatalf("popular in Home = %+v; want the mug (ten buyers) first", home)
	}
	for _, it := range home.Items {
		if home.Attrs[it.ItemID].Category[:4] != "Home" {
			t.Fatalf("popular in Home holds %s of %q", it.ItemID, home.Attrs[it.ItemID].Category)
		}
	}
	if len(pop[recodb.PopularKey{WindowDays: 30}].Items) != 14 {
		t.Fatalf("global 30-day list = %v", pop[recodb.PopularKey{WindowDays: 30}].Items)
	}

	runs, err := ddbtest.ScanAll(ctx, shop.Env.DB, shop.Env.Table("ModelsTable"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := runs[ddbtest.RowKey{PK: "RUN#train", SK: "2026-11-20T00:00:00Z"}]; !ok {
		t.Fatalf("no run record; models table holds %d rows", len(runs))
	}

	// The same as_of again, later: the same rows, byte for byte.
	before := snapshot(t, shop)
	clock = clock.Add(time.Hour)
	again, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Items != run.Items || again.Pairs != run.Pairs || again.Removed != 0 {
		t.Fatalf("second run = %+v, first %+v", again, run)
	}
	after := snapshot(t, shop)
	if len(before) != len(after) {
		t.Fatalf("rows: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("row %s changed on a re-run:\n%s\n%s", k, v, after[k])
		}
	}
}

func TestTrainWithoutHistoryClearsOldLists(t *testing.T) {
	env := ddbtest.New(t)
	ctx := context.Background()
	if err := ddbtest.PutRaw(ctx, env.DB, env.Table("ItemsTable"), map[string]any{
		"pk": "I#old", "sk": "NEIGHBOURS", "item_id": "old"}); err != nil {
		t.Fatal(err)
	}
	ts := &recodb.Training{DB: env.DB, Events: env.Table("EventsTable"), Items: env.Table("ItemsTable"), Models: env.Table("ModelsTable")}
	job := &training.Job{Store: ts, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now}
	run, err := job.Handle(ctx, json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if run.Items != 0 || run.Removed != 1 {
		t.Fatalf("run = %+v", run)
	}
	rows, err := ddbtest.ScanAll(ctx, env.DB, env.Table("ItemsTable"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Fatalf("items table still holds %v", rows)
	}
}
