package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/events/contract"
	"tailor/shared/events/memory"
)

func open(t *testing.T) contract.Stores {
	s := &memory.Events{Now: func() time.Time { return contract.Now }}
	return contract.Stores{
		Events:      s,
		History:     func(now func() time.Time) contract.History { return &memory.History{Events: s, Now: now} },
		SetCategory: func(_ *testing.T, itemID, category string) { s.SetCategory(itemID, category) },
		DeleteItem:  func(_ *testing.T, itemID string) { s.DeleteItem(itemID) },
		Erase:       func(_ *testing.T, customerID string) { s.Erase(customerID) },
		Aggregates:  func(_ *testing.T, o events.Owner) *customers.Aggregates { return s.Aggregates(o) },
	}
}

func TestContract(t *testing.T) { contract.Run(t, open) }

// TestEraseDeletesWhatIngestionKept: erasure takes the customer's history,
// aliases and aggregates, and its tombstone refuses events
// until cleared.
func TestEraseDeletesWhatIngestionKept(t *testing.T) {
	ctx := context.Background()
	s := &memory.Events{Now: func() time.Time { return contract.Now }}
	anon := events.Event{ID: "v1", Type: events.View, AnonymousID: "a-1", ItemID: "sku-1", Quantity: 1, Time: contract.Now}
	mine := events.Event{ID: "m1", Type: events.View, CustomerID: "c-1", ItemID: "sku-1", Quantity: 1, Time: contract.Now}
	other := events.Event{ID: "o1", Type: events.View, CustomerID: "c-2", ItemID: "sku-1", Quantity: 1, Time: contract.Now}
	for _, e := range []events.Event{anon, mine, other} {
		if _, err := s.Append(ctx, events.OwnerOf(e), []events.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Link(ctx, "a-1", "c-1"); err != nil {
		t.Fatal(err)
	}
	if n := s.Erase("c-1"); n != (customers.Erasure{HistoryItems: 2, EventRecords: 2, Aliases: 1}) {
		t.Fatalf("erased %+v", n)
	}
	if n := s.Erase("c-1"); n != (customers.Erasure{}) {
		t.Fatalf("erased again %+v", n)
	}
	if st, err := s.Append(ctx, events.OwnerOf(other), []events.Event{other}); err != nil || st[0] != events.Duplicate {
		t.Fatalf("another customer's history went with the erasure: %v %v", st, err)
	}
	if owners, _ := s.Resolve(ctx, []string{"a-1"}); len(owners) != 0 {
		t.Fatalf("aliases left %v", owners)
	}
	if a := s.Aggregates(events.Owner{CustomerID: "c-1"}); a != nil {
		t.Fatalf("aggregates left %+v", a)
	}
	page, err := (&memory.History{Events: s, Now: func() time.Time { return contract.Now }}).List(ctx, "c-1", events.HistoryQuery{})
	if err != nil || len(page.Events) != 0 {
		t.Fatalf("history left %+v %v", page, err)
	}
	if _, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, []events.Event{mine}); !errors.Is(err, customers.ErrErased) {
		t.Fatalf("append after erasure: %v", err)
	}
	s.ClearTombstone("c-1")
	if st, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, []events.Event{mine}); err != nil || st[0] != events.Accepted {
		t.Fatalf("append after the tombstone was cleared: %v %v", st, err)
	}
}
