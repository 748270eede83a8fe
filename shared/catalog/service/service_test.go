package service_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/catalog/memory"
	"tailor/shared/catalog/service"
	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

var errDown = errors.New("table unavailable")

// failing refuses to write the ids in fail and stores the rest in memory.
type failing struct {
	memory.Items
	fail map[string]bool
}

func (f *failing) Put(ctx context.Context, it catalog.Item) (catalog.Item, bool, error) {
	if f.fail[it.ID] {
		return catalog.Item{}, false, errDown
	}
	return f.Items.Put(ctx, it)
}

func entry(itemID, price string) catalog.BatchInput {
	return catalog.BatchInput{ItemID: itemID,
		Input: catalog.Input{Title: "Mug", Category: []string{"Home"}, Price: price, Currency: "GBP"}}
}

func TestBatchOutcomes(t *testing.T) {
	ctx := context.Background()
	store := &failing{fail: map[string]bool{"sku-down": true}}
	s := &service.Service{Items: store, Now: func() time.Time { return now }}
	if _, _, err := s.Put(ctx, "sku-old", entry("", "1").Input); err != nil {
		t.Fatal(err)
	}
	res, err := s.Batch(ctx, []catalog.BatchInput{
		entry("sku-new", "1.50"),
		entry("sku-old", "2"),
		entry("sku-down", "3"),
		entry("sku-bad", "1.234"),
		entry("sku-new", "4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []service.Status{service.Created, service.Updated, service.Failed, service.Rejected, service.Rejected}
	for i, o := range res.Outcomes {
		if o.Index != i || o.Status != want[i] {
			t.Errorf("entry %d: %+v, want index %d status %s", i, o, i, want[i])
		}
	}
	if res.Created != 1 || res.Updated != 1 || res.Failed != 1 || res.Rejected != 2 || len(res.Outcomes) != 5 {
		t.Fatalf("counts %+v", res)
	}
	if !errors.Is(res.Outcomes[2].Err, errDown) {
		t.Errorf("failed entry carries %v, want the store's error", res.Outcomes[2].Err)
	}
	var bad *errs.Error
	if !errors.As(res.Outcomes[3].Err, &bad) || bad.Kind != errs.Invalid || len(bad.Fields) != 1 || bad.Fields[0].Field != "items[3].price" {
		t.Errorf("rejected entry carries %v, want an invalid items[3].price", res.Outcomes[3].Err)
	}
	if !errs.Is(res.Outcomes[4].Err, errs.Invalid) {
		t.Errorf("repeated id: %v, want invalid", res.Outcomes[4].Err)
	}
	// The repeated id did not overwrite the first entry, and rejected
	// entries were not stored.
	if it, err := s.Get(ctx, "sku-new"); err != nil || it.PriceMinor != 150 {
		t.Fatalf("sku-new: %+v %v", it, err)
	}
	if _, err := s.Get(ctx, "sku-bad"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a rejected entry was stored: %v", err)
	}
}

func TestBatchSize(t *testing.T) {
	s := &service.Service{Items: &memory.Items{}, Now: func() time.Time { return now }}
	if _, err := s.Batch(context.Background(), nil); !errs.Is(err, errs.Invalid) {
		t.Fatalf("empty batch: %v, want invalid", err)
	}
	full := make([]catalog.BatchInput, catalog.MaxBatch)
	for i := range full {
		full[i] = entry(fmt.Sprintf("s%d", i), "1")
	}
	res, err := s.Batch(context.Background(), full)
	if err != nil || res.Created != catalog.MaxBatch {
		t.Fatalf("full batch: created %d, %v", res.Created, err)
	}
	if _, err := s.Batch(context.Background(), append(full, entry("one-more", "1"))); !errs.Is(err, errs.TooLarge) {
		t.Fatalf("%d entries: %v, want too large", catalog.MaxBatch+1, err)
	}
}

func TestPutValidatesBeforeWriting(t *testing.T) {
	ctx := context.Background()
	s := &service.Service{Items: &memory.Items{}, Now: func() time.Time { return now }}
	if _, _, err := s.Put(ctx, "sku-1", catalog.Input{Title: "Mug"}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("invalid put: %v", err)
	}
	if _, err := s.Get(ctx, "sku-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("an invalid put stored the item: %v", err)
	}
	it, created, err := s.Put(ctx, "sku-1", entry("", "2").Input)
	if err != nil || !created || !it.CreatedAt.Equal(now) || it.CreatedAt.Location() != time.UTC {
		t.Fatalf("put: %+v created=%v err=%v", it, created, err)
	}
}
