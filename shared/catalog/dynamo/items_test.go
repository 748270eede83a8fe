//go:build dynamodb

package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
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
	if err := s.Delete(ctx, "sku-1", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "sku-1", t0.Add(2*time.Hour)); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, "sku-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

// TestItemsFileChanges pins the row layout the change feed reads (package
// schema): every write sets the item's shard and the write time, and a
// delete leaves a tombstone that expires, which a put clears again.
func TestItemsFileChanges(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 123_456_789, time.UTC)
	env := ddbtest.New(t)
	table := env.Table("ItemsTable")
	s := &catalogdb.Items{DB: env.DB, Table: table}
	ctx := context.Background()
	row := func() map[string]any {
		t.Helper()
		out, err := env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: schema.ItemKey("sku-1")})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMapWithOptions(out.Item, &m, func(o *attributevalue.DecoderOptions) { o.UseNumber = true }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	check := func(when string, m map[string]any, want map[string]any) {
		t.Helper()
		for k, v := range want {
			if fmt.Sprint(m[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", when, k, m[k], v)
			}
		}
	}
	it, err := catalog.New("sku-1", catalog.Input{Title: "Mug", Category: []string{"Home"}, Price: "12.50", Currency: "GBP"}, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	shard := schema.ChangePK(schema.ChangeShard("sku-1"))
	check("put", row(), map[string]any{"chg": shard, "chg_at": t0.UnixMilli(), "deleted": nil, "expires_at": nil})

	deletedAt := t0.Add(time.Hour)
	if err := s.Delete(ctx, "sku-1", deletedAt); err != nil {
		t.Fatal(err)
	}
	check("delete", row(), map[string]any{"chg": shard, "chg_at": deletedAt.UnixMilli(), "deleted": true,
		"expires_at": deletedAt.Add(30 * 24 * time.Hour).Unix(), "title": "Mug"})

	again := it
	again.CreatedAt, again.UpdatedAt = t0.Add(2*time.Hour), t0.Add(2*time.Hour)
	if _, created, err := s.Put(ctx, again); err != nil || !created {
		t.Fatalf("put over the tombstone: created=%v err=%v", created, err)
	}
	check("put again", row(), map[string]any{"chg": shard, "chg_at": again.UpdatedAt.UnixMilli(), "deleted": nil,
		"expires_at": nil, "created_at": again.CreatedAt.Format(time.RFC3339Nano)})
}
