package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newEvents(t *testing.T) (*eventsdb.Events, *customersdb.Customers, *eventsdb.History) {
	t.Helper()
	env := ddbtest.New(t)
	now := func() time.Time { return t0 }
	s := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: now, Backoff: time.Millisecond}
	return s, &customersdb.Customers{DB: env.DB, Table: env.Table("CustomersTable")},
		&eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: now}
}

func purchase(id, cust, order string, minutes int, qty, price int64) events.Event {
	return events.Event{ID: id, Type: events.Purchase, CustomerID: cust, ItemID: "sku-" + id, Quantity: qty,
		PriceMinor: price, Currency: "GBP", OrderID: order, Time: t0.Add(time.Duration(minutes) * time.Minute), Category: "Home"}
}

func TestAppendIsExactlyOnce(t *testing.T) {
	s, cs, _ := newEvents(t)
	ctx := context.Background()
	owner := events.Owner{CustomerID: "c-1"}
	var evs []events.Event
	for i := range 70 { // more than one transaction
		evs = append(evs, purchase(fmt.Sprintf("e%03d", i), "c-1", fmt.Sprintf("o%d", i%7), i, 2, 150))
	}
	st, err := s.Append(ctx, owner, evs[:40])
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		if x != events.Accepted {
			t.Fatalf("event %d: %s", i, x)
		}
	}
	st, err = s.Append(ctx, owner, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		want := events.Accepted
		if i < 40 {
			want = events.Duplicate
		}
		if x != want {
			t.Fatalf("event %d: %s, want %s", i, x, want)
		}
	}
	changed := evs[3]
	changed.Quantity = 9
	st, err = s.Append(ctx, owner, []events.Event{changed})
	if err != nil || st[0] != events.Rejected {
		t.Fatalf("reused id: %v %v", st, err)
	}
	c, err := cs.Get(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := customers.Fold(evs)
	if c.Aggregates.Events != 70 || c.Aggregates.Orders != 7 || c.Aggregates.Revenue["GBP"] != 70*300 ||
		!slices.Equal(c.Aggregates.OrderIDs, want.OrderIDs) || c.Aggregates.Units != want.Units {
		t.Fatalf("aggregates %+v", c.Aggregates)
	}
}

// failing makes one kind of call fail once, as a process dying right
// before it would.
type failing struct {
	ddb.DB
	updates int
}

func (f *failing) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.updates > 0 {
		f.updates--
		return nil, errors.New("crashed before marking the alias moved")
	}
	return f.DB.UpdateItem(ctx, in, o...)
}

func TestLinkMergesOnceAndFinishesAnInterruptedMove(t *testing.T) {
	s, cs, hist := newEvents(t)
	ctx := context.Background()
	visitor := events.Owner{AnonymousID: "a-1"}
	var anon []events.Event
	for i := range 3 {
		e := purchase(fmt.Sprintf("v%d", i), "", fmt.Sprintf("o-v%d", i), i, 1, 100)
		e.CustomerID, e.AnonymousID = "", "a-1"
		anon = append(anon, e)
	}
	if _, err := s.Append(ctx, visitor, anon); err != nil {
		t.Fatal(err)
	}
	mine := []events.Event{purchase("m0", "c-1", "o-m0", 10, 1, 500)}
	if _, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, mine); err != nil {
		t.Fatal(err)
	}

	// The merge commits, the history moves, then the process dies before
	// the alias is marked moved.
	crash := &failing{DB: s.DB, updates: 1}
	broken := *s
	broken.DB = crash
	if _, err := broken.Link(ctx, "a-1", "c-1"); err == nil {
		t.Fatal("the injected crash did not surface")
	}
	// Any later event of the visitor finishes the move.
	owners, err := s.Resolve(ctx, []string{"a-1"})
	if err != nil || owners["a-1"] != "c-1" {
		t.Fatalf("resolve: %v %v", owners, err)
	}
	// A second login changes nothing; another customer cannot take the visitor.
	if got, err := s.Link(ctx, "a-1", "c-1"); err != nil || got != "c-1" {
		t.Fatalf("second link: %s %v", got, err)
	}
	if got, err := s.Link(ctx, "a-1", "c-2"); err != nil || got != "c-1" {
		t.Fatalf("link to another customer: %s %v", got, err)
	}

	c, err := cs.Get(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := customers.Fold(append(slices.Clone(anon), mine...))
	if c.Aggregates.Events != 4 || c.Aggregates.Orders != 4 || c.Aggregates.Revenue["GBP"] != want.Revenue["GBP"] ||
		!c.Aggregates.FirstSeen.Equal(want.FirstSeen) || len(c.Aggregates.Recent) != 4 {
		t.Fatalf("aggregates %+v, want %+v", c.Aggregates, want)
	}
	page, err := hist.List(ctx, "c-1", events.HistoryQuery{Limit: 10})
	if err != nil || len(page.Events) != 4 || page.Events[0].ID != "m0" {
		t.Fatalf("history %+v %v", page, err)
	}
	// The visitor's record is gone: later visitor events must go to c-1.
	if _, err := s.Append(ctx, visitor, []events.Event{{ID: "late", Type: events.View, AnonymousID: "a-1", ItemID: "x", Quantity: 1, Time: t0}}); !errors.Is(err, eventsdb.ErrOwnerChanged) {
		t.Fatalf("a write to the linked visitor: %v", err)
	}
}

func TestDayCountsSumTheShards(t *testing.T) {
	s, _, _ := newEvents(t)
	ctx := context.Background()
	// One event per transaction: each lands on a random shard of the day.
	for i := range 40 {
		e := events.Event{ID: fmt.Sprintf("p%d", i), Type: events.View, CustomerID: "c-1", ItemID: "hot", Category: "Home",
			Quantity: 1, Time: t0.Add(time.Duration(i) * time.Minute)}
		if i%4 == 0 {
			e.Type, e.Quantity, e.PriceMinor, e.Currency, e.OrderID = events.Purchase, 3, 100, "GBP", "o-1"
		}
		if i%10 == 0 {
			e.ItemID, e.Category = "cold", "Garden"
		}
		if _, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, []events.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DayCounts(ctx, t0, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []events.ItemCounts{
		{ItemID: "cold", Category: "Garden", Views: 2, Purchases: 2, Units: 6}, // i = 10, 30; 0, 20
		{ItemID: "hot", Category: "Home", Views: 28, Purchases: 8, Units: 24},  // the other multiples of 4 buy
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	home, err := s.DayCounts(ctx, t0, "Home")
	if err != nil || len(home) != 1 || home[0].ItemID != "hot" {
		t.Fatalf("Home: %+v %v", home, err)
	}
	if none, err := s.DayCounts(ctx, t0.AddDate(0, 0, 1), ""); err != nil || len(none) != 0 {
		t.Fatalf("next day: %+v %v", none, err)
	}
}
