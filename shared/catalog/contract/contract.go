// Package contract is the one test suite every implementation of the
// catalog's storage ports must pass: package memory runs it without a
// database and package dynamo against DynamoDB Local, so the two are proven
// to behave alike.
package contract

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/catalog/service"
	"tailor/shared/platform/errs"
)

// Stores are the ports under test, all empty when open returns them.
type Stores struct {
	Items service.Items
}

// Run runs the suite; open is called once per subtest for fresh stores.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"GetMissing", getMissing},
		{"PutCreatesThenUpdatesKeepingCreatedAt", putKeepsCreatedAt},
		{"PutOfTheSameContentChangesNothing", putSameContent},
		{"PutWithoutTags", putWithoutTags},
		{"DeleteThenGetIsNotFound", deleteThenGet},
		{"DeleteTwiceIsNotFound", deleteTwice},
		{"DeleteThenPutCreatesAgain", deleteThenPut},
		{"ItemsAreIndependent", itemsAreIndependent},
		{"ConcurrentPutsCreateOnce", concurrentPuts},
		{"ConcurrentPutsAfterDeleteCreateOnce", concurrentPutsAfterDelete},
		{"ReadsAreCopies", readsAreCopies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func item(t *testing.T, itemID string, at time.Time) catalog.Item {
	t.Helper()
	it, err := catalog.New(itemID, catalog.Input{Title: "Mug", Category: []string{"Home", "Kitchen"}, Brand: "Acme",
		Price: "12.50", Currency: "GBP", Tags: []string{"gift", "sale"}}, at, "")
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// equal compares every stored field of two items.
func equal(a, b catalog.Item) bool {
	return a.ID == b.ID && a.Title == b.Title && slices.Equal(a.Category, b.Category) && a.Brand == b.Brand &&
		a.PriceMinor == b.PriceMinor && a.Currency == b.Currency && slices.Equal(a.Tags, b.Tags) &&
		a.InStock == b.InStock && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func getMissing(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, err := s.Items.Get(ctx, "sku-none"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get missing: %v, want not found", err)
	}
	if err := s.Items.Delete(ctx, "sku-none", t0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("delete missing: %v, want not found", err)
	}
}

func putKeepsCreatedAt(t *testing.T, s Stores) {
	ctx := context.Background()
	it := item(t, "sku-1", t0)
	stored, created, err := s.Items.Put(ctx, it)
	if err != nil || !created || !equal(stored, it) {
		t.Fatalf("first put: %+v created=%v err=%v", stored, created, err)
	}
	got, err := s.Items.Get(ctx, "sku-1")
	if err != nil || !equal(got, it) {
		t.Fatalf("get after create: %+v %v, want %+v", got, err, it)
	}

	later := it
	later.Title, later.Brand, later.InStock, later.PriceMinor = "Big mug", "", false, 1399
	later.Category, later.Tags = []string{"Home"}, []string{"new"}
	later.CreatedAt, later.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	stored, created, err = s.Items.Put(ctx, later)
	want := later
	want.CreatedAt = t0
	if err != nil || created || !equal(stored, want) {
		t.Fatalf("second put: %+v created=%v err=%v, want %+v", stored, created, err, want)
	}
	got, err = s.Items.Get(ctx, "sku-1")
	if err != nil || !equal(got, want) || got.Brand != "" {
		t.Fatalf("get after update: %+v %v, want %+v", got, err, want)
	}
}

// putSameContent: sending an item again with the content it has writes
// nothing (updated_at stays), while any change of content is written.
func putSameContent(t *testing.T, s Stores) {
	ctx := context.Background()
	it := item(t, "sku-7", t0)
	if _, _, err := s.Items.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	again := it
	again.CreatedAt, again.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	stored, created, err := s.Items.Put(ctx, again)
	if err != nil || created || !equal(stored, it) {
		t.Fatalf("same content: %+v created=%v err=%v, want the stored %+v", stored, created, err, it)
	}
	if got, err := s.Items.Get(ctx, "sku-7"); err != nil || !equal(got, it) {
		t.Fatalf("after the same content: %+v %v, want %+v", got, err, it)
	}
	again.InStock = !it.InStock
	stored, created, err = s.Items.Put(ctx, again)
	want := again
	want.CreatedAt = t0
	if err != nil || created || !equal(stored, want) {
		t.Fatalf("changed stock: %+v created=%v err=%v, want %+v", stored, created, err, want)
	}
}

func putWithoutTags(t *testing.T, s Stores) {
	ctx := context.Background()
	it := item(t, "sku-2", t0)
	it.Tags = []string{}
	if _, _, err := s.Items.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	got, err := s.Items.Get(ctx, "sku-2")
	if err != nil || got.Tags == nil || len(got.Tags) != 0 {
		t.Fatalf("empty tags read back as %#v (%v); want an empty, non-nil list", got.Tags, err)
	}
	it.Tags = nil
	if _, created, err := s.Items.Put(ctx, it); err != nil || created {
		t.Fatalf("put without tags: created=%v err=%v", created, err)
	}
	got, err = s.Items.Get(ctx, "sku-2")
	if err != nil || got.Tags == nil || len(got.Tags) != 0 {
		t.Fatalf("absent tags read back as %#v (%v); want an empty, non-nil list", got.Tags, err)
	}
}

// putThenDelete stores the item created at t0 and deletes it an hour later.
func putThenDelete(t *testing.T, s Stores, itemID string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.Items.Put(ctx, item(t, itemID, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Items.Delete(ctx, itemID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func deleteThenGet(t *testing.T, s Stores) {
	putThenDelete(t, s, "sku-3")
	if got, err := s.Items.Get(context.Background(), "sku-3"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get deleted: %+v %v, want not found", got, err)
	}
}

func deleteTwice(t *testing.T, s Stores) {
	putThenDelete(t, s, "sku-3")
	if err := s.Items.Delete(context.Background(), "sku-3", t0.Add(2*time.Hour)); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v, want not found", err)
	}
}

func deleteThenPut(t *testing.T, s Stores) {
	ctx := context.Background()
	putThenDelete(t, s, "sku-3")
	again := item(t, "sku-3", t0.Add(24*time.Hour))
	again.Title, again.Brand = "Mug again", ""
	stored, created, err := s.Items.Put(ctx, again)
	if err != nil || !created || !equal(stored, again) {
		t.Fatalf("put after delete: %+v created=%v err=%v; a deleted item's CreatedAt must not return", stored, created, err)
	}
	got, err := s.Items.Get(ctx, "sku-3")
	if err != nil || !equal(got, again) || got.Deleted {
		t.Fatalf("get after put over the deleted item: %+v %v, want %+v", got, err, again)
	}
	// The item is an ordinary one again: updated in place, deleted once.
	later := again
	later.CreatedAt, later.UpdatedAt = t0.Add(25*time.Hour), t0.Add(25*time.Hour)
	if stored, created, err := s.Items.Put(ctx, later); err != nil || created || !stored.CreatedAt.Equal(again.CreatedAt) {
		t.Fatalf("update of the recreated item: %+v created=%v err=%v", stored, created, err)
	}
	if err := s.Items.Delete(ctx, "sku-3", t0.Add(26*time.Hour)); err != nil {
		t.Fatalf("delete of the recreated item: %v", err)
	}
	if _, err := s.Items.Get(ctx, "sku-3"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get after the second delete: %v, want not found", err)
	}
}

func itemsAreIndependent(t *testing.T, s Stores) {
	ctx := context.Background()
	a, b := item(t, "sku-a", t0), item(t, "sku-b", t0.Add(time.Minute))
	b.Title = "Bowl"
	for _, it := range []catalog.Item{a, b} {
		if _, created, err := s.Items.Put(ctx, it); err != nil || !created {
			t.Fatalf("put %s: created=%v err=%v", it.ID, created, err)
		}
	}
	if err := s.Items.Delete(ctx, "sku-a", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Items.Get(ctx, "sku-b"); err != nil || !equal(got, b) {
		t.Fatalf("sku-b after deleting sku-a: %+v %v", got, err)
	}
}

func concurrentPuts(t *testing.T, s Stores) { racePuts(t, s) }

func concurrentPutsAfterDelete(t *testing.T, s Stores) {
	putThenDelete(t, s, "sku-race")
	racePuts(t, s)
}

// racePuts puts sku-race, absent or deleted, from several writers at once:
// exactly one creates it, with its own CreatedAt.
func racePuts(t *testing.T, s Stores) {
	ctx := context.Background()
	const writers = 8
	day2 := t0.Add(24 * time.Hour)
	var wg sync.WaitGroup
	createdBy := make([]bool, writers)
	failures := make([]error, writers)
	for w := range writers {
		it := item(t, "sku-race", day2.Add(time.Duration(w)*time.Minute))
		wg.Go(func() { _, createdBy[w], failures[w] = s.Items.Put(ctx, it) })
	}
	wg.Wait()
	n := 0
	for w := range writers {
		if failures[w] != nil {
			t.Fatalf("writer %d: %v", w, failures[w])
		}
		if createdBy[w] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of %d concurrent puts of one new item reported created, want exactly 1", n, writers)
	}
	got, err := s.Items.Get(ctx, "sku-race")
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		if createdBy[w] && !got.CreatedAt.Equal(day2.Add(time.Duration(w)*time.Minute)) {
			t.Fatalf("created_at %v is not the creating writer's (%d)", got.CreatedAt, w)
		}
	}
}

func readsAreCopies(t *testing.T, s Stores) {
	ctx := context.Background()
	it := item(t, "sku-4", t0)
	if _, _, err := s.Items.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	it.Tags[0], it.Category[0] = "changed", "Changed"
	got, err := s.Items.Get(ctx, "sku-4")
	if err != nil || got.Tags[0] != "gift" || got.Category[0] != "Home" {
		t.Fatalf("the store shares the written item's slices: %+v %v", got, err)
	}
	got.Tags[0] = "changed"
	again, err := s.Items.Get(ctx, "sku-4")
	if err != nil || again.Tags[0] != "gift" {
		t.Fatalf("the store shares a read item's slices: %+v %v", again, err)
	}
}
