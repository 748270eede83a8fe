//go:build dynamodb

package dynamo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/errs"
)

func TestItemsKeepCreatedAt(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	env := ddbtest.New(t)
	s := &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}
	ctx := context.Background()
	it, err := catalog.New("sku-1", catalog.Input{Title: "Mug", Category: []string{"Home", "Kitchen"}, Brand: "Acme",
		Price: "12.50", Currency: "GBP", Tags: []string{"gift"}}, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := s.Put(ctx, it); err != nil || !created {
		t.Fatalf("first put: created=%v err=%v", created, err)
	}
	later := it
	later.Title, later.Brand, later.InStock = "Big mug", "", false
	later.CreatedAt, later.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	stored, created, err := s.Put(ctx, later)
	if err != nil || created || !stored.CreatedAt.Equal(t0) {
		t.Fatalf("second put: %+v created=%v err=%v", stored, created, err)
	}
	got, err := s.Get(ctx, "sku-1")
	if err != nil {
		t.Fatal(err)
	}
	want := later
	want.CreatedAt = t0
	if got.Title != want.Title || got.Brand != "" || got.InStock || got.PriceMinor != 1250 ||
		!got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(want.UpdatedAt) || !slices.Equal(got.Category, want.Category) {
		t.Fatalf("got %+v", got)
	}
	if err := s.Delete(ctx, "sku-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "sku-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, "sku-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}
