//go:build dynamodb

package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	eventsdb "tailor/shared/events/dynamo"
	ingest "tailor/shared/events/service"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/recommendations"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/service"
)

// heavyShop stores a 2,000-item catalogue (5 departments of 4 shelves)
// with a trained list of 50 neighbours per item and 200-item popularity
// lists, and one heavy customer: 50 recent interactions and 100 purchased
// items, the most a customer record holds of the first and more than most
// hold of the second. It returns the request-side store over a capacity
// meter.
func heavyShop(b testing.TB) (*recodb.Recommendations, *ddbtest.Meter) {
	env := ddbtest.New(b)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	const nItems = 2000
	items := &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}
	attrs := map[string]recommendations.Item{}
	for n := range nItems {
		id := fmt.Sprintf("sku-%05d", n)
		inStock := n%10 != 0
		in := catalog.Input{Title: fmt.Sprintf("Product %d", n), Category: []string{fmt.Sprintf("Dept%d", n%5), fmt.Sprintf("Shelf%d", n%20)},
			Brand: fmt.Sprintf("Brand%d", n%40), Price: fmt.Sprintf("%d.99", 1+n%60), Currency: "GBP", InStock: &inStock}
		it, err := catalog.New(id, in, now, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := items.Put(ctx, it); err != nil {
			b.Fatal(err)
		}
		attrs[id] = recommendations.CatalogItem(it)
	}
	model := &recommendations.Model{AsOf: now, Items: map[string]recommendations.ItemModel{}}
	for n := range nItems {
		id := fmt.Sprintf("sku-%05d", n)
		im := recommendations.ItemModel{ItemID: id, RepeatRate: 0.2, Customers: 30}
		for k := range 50 {
			im.Neighbours = append(im.Neighbours, recommendations.Neighbour{ItemID: fmt.Sprintf("sku-%05d", rng.IntN(nItems)), Score: 0.5 / float64(k+1)})
		}
		model.Items[id] = im
	}
	ts := &recodb.Training{DB: env.DB, Customers: env.Table("CustomersTable"), Items: env.Table("ItemsTable"), Models: env.Table("ModelsTable")}
	for _, cat := range []string{"", "Dept0", "Dept1", "Dept2", "Dept3", "Dept4"} {
		l := recommendations.PopularList{WindowDays: service.ServingWindow, Category: cat}
		for n := range nItems {
			if cat == "" || attrs[fmt.Sprintf("sku-%05d", n)].TopCategory() == cat {
				l.Items = append(l.Items, recommendations.ScoredItem{ItemID: fmt.Sprintf("sku-%05d", n), Score: float64(nItems - n)})
			}
			if len(l.Items) == 200 {
				break
			}
		}
		model.Popular = append(model.Popular, l)
	}
	catalogue, err := ts.LiveCatalog(ctx)
	if err != nil {
		b.Fatal(err)
	}
	data, err := recommendations.NewSnapshot(model, 500, catalogue, now).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if _, err := ts.PutSnapshot(ctx, recommendations.SnapshotRef{AsOf: now, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, data); err != nil {
		b.Fatal(err)
	}
	svc := &ingest.Service{Store: &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable")}, Now: func() time.Time { return now }}
	var raws []json.RawMessage
	for n := range 150 {
		e := map[string]any{"event_id": fmt.Sprintf("h-%03d", n), "type": "view", "customer_id": "heavy",
			"item_id": fmt.Sprintf("sku-%05d", (n*37)%nItems), "timestamp": now.Add(-time.Duration(150-n) * time.Hour).Format(time.RFC3339)}
		if n < 100 {
			e["type"], e["quantity"], e["price"], e["currency"], e["order_id"] = "purchase", 1, "1.99", "GBP", fmt.Sprintf("o-%d", n/5)
		}
		b, _ := json.Marshal(e)
		raws = append(raws, b)
	}
	for _, o := range svc.Ingest(ctx, raws, nil) {
		if o.Status != "accepted" {
			b.Fatalf("event %d: %+v", o.Index, o)
		}
	}
	m := &ddbtest.Meter{DB: env.DB}
	return &recodb.Recommendations{DB: m, Customers: env.Table("CustomersTable"), Items: env.Table("ItemsTable"),
		Models: env.Table("ModelsTable")}, m
}

// BenchmarkRequests times each kind of request in-process against
// DynamoDB Local and reports the read capacity DynamoDB says it consumed
// (ReturnConsumedCapacity TOTAL) per request, the model loaded.
func BenchmarkRequests(b *testing.B) {
	st, meter := heavyShop(b)
	svc := &service.Service{Store: st, Scorer: recommendations.DefaultScorer(), Now: time.Now, Log: quiet}
	ctx := context.Background()
	cases := []struct {
		name string
		run  func() (int, error)
	}{
		{"recommendations/mixed", func() (int, error) {
			l, err := svc.Recommend(ctx, service.Query{CustomerID: "heavy", Limit: 10, Mode: recommendations.Mixed, Explain: true})
			return len(l.Items), err
		}},
		{"recommendations/discover", func() (int, error) {
			l, err := svc.Recommend(ctx, service.Query{CustomerID: "heavy", Limit: 10, Mode: recommendations.Discover, Explain: true})
			return len(l.Items), err
		}},
		{"recommendations/cold", func() (int, error) {
			l, err := svc.Recommend(ctx, service.Query{CustomerID: "nobody", Limit: 10, Mode: recommendations.Mixed})
			return len(l.Items), err
		}},
		{"similar", func() (int, error) {
			l, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "sku-00001", Limit: 10})
			return len(l.Items), err
		}},
		{"popular", func() (int, error) {
			l, err := svc.Popular(ctx, service.PopularQuery{WindowDays: service.ServingWindow, Limit: 10})
			return len(l.Items), err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if n, err := c.run(); err != nil || n != 10 { // loads the model
				b.Fatalf("%d items, %v", n, err)
			}
			meter.Reset()
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
			rcu, _ := meter.Capacity()
			b.ReportMetric(rcu/float64(b.N), "RCU/op")
		})
	}
}

// TestReadsPerRequest pins what a request costs in DynamoDB once the model
// is loaded: a personalized list of the heavy customer is at most two
// calls and four read units (it is one strongly consistent GetItem of the
// customer record); similar and popular items read nothing.
func TestReadsPerRequest(t *testing.T) {
	st, meter := heavyShop(t)
	svc := &service.Service{Store: st, Scorer: recommendations.DefaultScorer(), Now: time.Now, Log: quiet,
		CheckEvery: time.Hour, RefreshEvery: time.Hour}
	ctx := context.Background()
	if err := svc.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []recommendations.Mode{recommendations.Mixed, recommendations.Discover, recommendations.BuyAgain} {
		meter.Reset()
		l, err := svc.Recommend(ctx, service.Query{CustomerID: "heavy", Limit: 10, Mode: mode, Explain: true})
		if err != nil || len(l.Items) != 10 || !l.Personalized {
			t.Fatalf("%s: %d items, %v", mode, len(l.Items), err)
		}
		rcu, _ := meter.Capacity()
		t.Logf("%s: %d calls, %.1f RCU", mode, meter.Calls(), rcu)
		if meter.Calls() > 2 || rcu > 4 || rcu <= 0 {
			t.Errorf("%s: %d calls, %.1f RCU; want at most 2 calls and 4 RCU", mode, meter.Calls(), rcu)
		}
	}
	meter.Reset()
	if l, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "sku-00001", Limit: 10}); err != nil || len(l.Items) != 10 {
		t.Fatalf("similar: %d items, %v", len(l.Items), err)
	}
	if l, err := svc.Popular(ctx, service.PopularQuery{WindowDays: service.ServingWindow, Limit: 10}); err != nil || len(l.Items) != 10 {
		t.Fatalf("popular: %d items, %v", len(l.Items), err)
	}
	if n := meter.Calls(); n != 0 {
		t.Errorf("similar and popular made %d DynamoDB calls; want none", n)
	}
}
