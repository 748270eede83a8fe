//go:build dynamodb

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
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newEvents(t *testing.T) (*eventsdb.Events, *ddbtest.Env, *eventsdb.History) {
	t.Helper()
	env := ddbtest.New(t)
	now := func() time.Time { return t0 }
	s := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: now, Backoff: time.Millisecond}
	return s, env, &eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: now}
}

func purchase(id, cust, order string, minutes int, qty, price int64) events.Event {
	return events.Event{ID: id, Type: events.Purchase, CustomerID: cust, ItemID: "sku-" + id, Quantity: qty,
		PriceMinor: price, Currency: "GBP", OrderID: order, Time: t0.Add(time.Duration(minutes) * time.Minute), Category: "Home"}
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
	s, env, hist := newEvents(t)
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

	c := aggregatesOf(t, env, events.Owner{CustomerID: "c-1"})
	want := customers.Fold(append(slices.Clone(anon), mine...))
	if c == nil || c.Events != 4 || c.Orders != 4 || c.Revenue["GBP"] != want.Revenue["GBP"] ||
		!c.FirstSeen.Equal(want.FirstSeen) || len(c.Recent) != 4 {
		t.Fatalf("aggregates %+v, want %+v", c, want)
	}
	page, err := hist.List(ctx, "c-1", events.HistoryQuery{Limit: 10})
	if err != nil || len(page.Events) != 4 || page.Events[0].ID != "m0" {
		t.Fatalf("history %+v %v", page, err)
	}
	// The visitor's record is gone: later visitor events must go to c-1.
	if _, err := s.Append(ctx, visitor, []events.Event{{ID: "late", Type: events.View, AnonymousID: "a-1", ItemID: "x", Quantity: 1, Time: t0}}); !errors.Is(err, events.ErrOwnerChanged) {
		t.Fatalf("a write to the linked visitor: %v", err)
	}
}
