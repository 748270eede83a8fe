//go:build dynamodb

package dynamo_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/pii"
)

// crashingDB fails every BatchWriteItem after the first n, as if the
// function died part way through an erasure.
type crashingDB struct {
	ddb.DB
	n, calls atomic.Int64
}

func (c *crashingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if c.calls.Add(1) > c.n.Load() {
		return nil, errors.New("execution environment died")
	}
	return c.DB.BatchWriteItem(ctx, in, o...)
}

func testKeys(t *testing.T) (*pii.Sealer, *pii.Index) {
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	l, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	return pii.NewSealer(l), pii.NewIndex(l)
}

// scanFor returns every item of every table whose text holds any needle.
func scanFor(t *testing.T, env *ddbtest.Env, needles ...string) []string {
	t.Helper()
	var out []string
	for _, tbl := range env.Template.Tables {
		p := dynamodb.NewScanPaginator(env.DB, &dynamodb.ScanInput{TableName: aws(env.Table(tbl.LogicalID))})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				m, err := eventsdb.Readable(it)
				if err != nil {
					t.Fatal(err)
				}
				s := fmt.Sprintf("%s %+v", tbl.LogicalID, m)
				for _, n := range needles {
					if strings.Contains(s, n) {
						out = append(out, s)
						break
					}
				}
			}
		}
	}
	return out
}

func aws(s string) *string { return &s }

// TestErasureResumesAfterACrash: an erasure that dies after two batch
// writes leaves the tombstone (so nothing new lands) and part of the
// history; running it again removes the rest, and a third run finds
// nothing to do. A replayed event then stores nothing.
func TestErasureResumesAfterACrash(t *testing.T) {
	env := ddbtest.New(t)
	ctx := context.Background()
	sealer, index := testKeys(t)
	es := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Backoff: time.Millisecond, PII: sealer}
	people := &customersdb.Customers{DB: env.DB, Table: env.Table("CustomersTable"), PII: sealer, Index: index}
	c, _ := customers.Replace("c-erase", nil, customers.Replacement{Profile: customers.Profile{Name: "Mary Somerville",
		Email: "mary@example.org"}}, time.Now())
	if err := people.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	var anonEvs, custEvs []events.Event
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		anonEvs = append(anonEvs, events.Event{ID: fmt.Sprintf("ea%03d", i), Type: events.View, AnonymousID: "a-erase",
			ItemID: "sku-1", Time: t0.Add(time.Duration(i) * time.Minute)})
	}
	// Orders: one the visitor brings at login, and the customer's own
	// (order items, which erasure deletes too).
	anonEvs[0].Type, anonEvs[0].Quantity, anonEvs[0].PriceMinor, anonEvs[0].Currency, anonEvs[0].OrderID = events.Purchase, 1, 100, "GBP", "ord-a"
	for i := range 90 {
		e := events.Event{ID: fmt.Sprintf("ec%03d", i), Type: events.Search, CustomerID: "c-erase",
			Query: "somerville", Time: t0.Add(time.Duration(100+i) * time.Minute)}
		if i%10 == 0 { // feedback: its comment is sealed, its campaign and answers go with the history
			e.Type, e.Query, e.Rating, e.Topic, e.Comment, e.CampaignID = events.Feedback, "", 2, events.Complaint, "ask for Mary Somerville", "camp-erase"
		}
		if i%10 == 5 {
			e.Type, e.Query, e.ItemID, e.Quantity, e.PriceMinor, e.Currency, e.OrderID = events.Purchase, "", "sku-2", 1, 250, "GBP", fmt.Sprintf("ord-%d", i/20)
		}
		custEvs = append(custEvs, e)
	}
	if _, err := es.Append(ctx, events.Owner{AnonymousID: "a-erase"}, anonEvs); err != nil {
		t.Fatal(err)
	}
	if _, err := es.Link(ctx, "a-erase", "c-erase"); err != nil {
		t.Fatal(err)
	}
	if _, err := es.Append(ctx, events.Owner{CustomerID: "c-erase"}, custEvs); err != nil {
		t.Fatal(err)
	}
	if ids, err := es.OrderIDs(ctx, "c-erase"); err != nil || len(ids) != 6 {
		t.Fatalf("order ids before erasure: %v %v", ids, err)
	}
	if got := scanFor(t, env, "somerville", "Somerville", "mary@"); len(got) > 0 {
		t.Fatalf("plaintext stored: %v", got[0])
	}
	needles := []string{"c-erase", "a-erase", "\"ea0", "\"ec0", "ea00", "ec00", "camp-erase"}
	before := len(scanFor(t, env, needles...))

	crash := &crashingDB{DB: env.DB}
	crash.n.Store(2)
	p := &customersdb.Privacy{DB: crash, Customers: env.Table("CustomersTable"), Events: env.Table("EventsTable")}
	if _, err := p.Erase(ctx, "c-erase"); err == nil {
		t.Fatal("the crashing erasure succeeded")
	}
	mid := scanFor(t, env, needles...)
	if len(mid) >= before || len(mid) == 0 {
		t.Fatalf("after the crash %d of %d items remain; want some deleted, some left", len(mid), before)
	}
	crash.n.Store(1 << 30)
	n, err := p.Erase(ctx, "c-erase")
	if err != nil {
		t.Fatal(err)
	}
	if n.HistoryItems == 0 { // the alias went before the crash, by DeleteItem
		t.Fatalf("resumed erasure: %+v", n)
	}
	if again, err := p.Erase(ctx, "c-erase"); err != nil || again != (customers.Erasure{}) {
		t.Fatalf("third run: %+v, %v", again, err)
	}
	left := scanFor(t, env, needles...)
	if len(left) != 1 || !strings.Contains(left[0], "erased_at:") || !strings.Contains(left[0], "pk:C#c-erase sk:PROFILE]") {
		t.Fatalf("after erasure, want the tombstone only: %v", left)
	}
	st, err := es.Append(ctx, events.Owner{CustomerID: "c-erase"}, custEvs[:1])
	if !errors.Is(err, customers.ErrErased) || st[0] != "" {
		t.Fatalf("replayed event: %v %v", st, err)
	}
	if _, err := es.Link(ctx, "a-other", "c-erase"); !errors.Is(err, customers.ErrErased) {
		t.Fatalf("login to an erased customer: %v", err)
	}
	if err := people.Save(ctx, c, 0); !errors.Is(err, customers.ErrErased) {
		t.Fatalf("save over a tombstone: %v", err)
	}
	if got := scanFor(t, env, needles...); len(got) != 1 {
		t.Fatalf("refused writes stored something: %v", got)
	}
}
