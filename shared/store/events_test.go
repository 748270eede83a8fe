package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"tailor/shared/customer"
	"tailor/shared/event"
	"tailor/shared/store"
	"tailor/shared/store/storetest"
)

func newEvents(t *testing.T) (*store.Events, *store.Customers, *store.History) {
	t.Helper()
	env := storetest.New(t)
	now := func() time.Time { return t0 }
	s := &store.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: now, Backoff: time.Millisecond}
	return s, &store.Customers{DB: env.DB, Table: env.Table("CustomersTable")},
		&store.History{DB: env.DB, Table: env.Table("EventsTable"), Now: now}
}

func purchase(id, cust, order string, minutes int, qty, price int64) event.Event {
	return event.Event{ID: id, Type: event.Purchase, CustomerID: cust, ItemID: "sku-" + id, Quantity: qty,
		PriceMinor: price, Currency: "GBP", OrderID: order, Time: t0.Add(time.Duration(minutes) * time.Minute), Category: "Home"}
}

func TestAppendIsExactlyOnce(t *testing.T) {
	s, cs, _ := newEvents(t)
	ctx := context.Background()
	owner := event.Owner{CustomerID: "c-1"}
	var evs []event.Event
	for i := range 70 { // more than one transaction
		evs = append(evs, purchase(fmt.Sprintf("e%03d", i), "c-1", fmt.Sprintf("o%d", i%7), i, 2, 150))
	}
	st, err := s.Append(ctx, owner, evs[:40])
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		if x != event.Accepted {
			t.Fatalf("event %d: %s", i, x)
		}
	}
	st, err = s.Append(ctx, owner, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		want := event.Accepted
		if i < 40 {
			want = event.Duplicate
		}
		if x != want {
			t.Fatalf("event %d: %s, want %s", i, x, want)
		}
	}
	changed := evs[3]
	changed.Quantity = 9
	st, err = s.Append(ctx, owner, []event.Event{changed})
	if err != nil || st[0] != event.Rejected {
		t.Fatalf("reused id: %v %v", st, err)
	}
	c, err := cs.Get(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := customer.Fold(evs)
	if c.Aggregates.Events != 70 || c.Aggregates.Orders != 7 || c.Aggregates.Revenue["GBP"] != 70*300 ||
		!slices.Equal(c.Aggregates.OrderIDs, want.OrderIDs) || c.Aggregates.Units != want.Units {
		t.Fatalf("aggregates %+v", c.Aggregates)
	}
}
