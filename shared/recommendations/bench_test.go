package recommendations_test

import (
	"fmt"
	"os"
	"tailor/shared/local/dataset/datasettest"
	"testing"
	"time"

	"tailor/shared/local/dataset"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/service/servicetest"
)

// BenchmarkScore scores a customer with 50 history items of 50 neighbours
// each over a 5,000-item catalogue, with explanations and diversity on.
func BenchmarkScore(b *testing.B) {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	in := recommendations.Input{Now: now, Items: map[string]recommendations.Item{}, ItemModels: map[string]recommendations.ItemModel{}}
	cats := []string{"home", "garden", "toys", "kitchen", "bath"}
	for n := range 5000 {
		id := fmt.Sprintf("sku-%d", n)
		in.Items[id] = recommendations.Item{ItemID: id, Category: cats[n%len(cats)] + "/x", PriceMinor: int64(100 + n), InStock: n%10 != 0}
	}
	types := []recommendations.EventType{recommendations.View, recommendations.AddToCart, recommendations.Purchase}
	for h := range 50 {
		id := fmt.Sprintf("sku-%d", h*97)
		in.Recent = append(in.Recent, recommendations.Event{ItemID: id, Type: types[h%3], Time: now.Add(-time.Duration(h) * time.Hour)})
		if h%3 == 2 {
			in.Purchases = append(in.Purchases, recommendations.PurchaseSummary{ItemID: id, Count: 1 + h%4, Last: now.Add(-time.Duration(h) * time.Hour)})
		}
		nbs := make([]recommendations.Neighbour, 50)
		for k := range nbs {
			nbs[k] = recommendations.Neighbour{ItemID: fmt.Sprintf("sku-%d", (h*131+k*17)%5000), Score: 1 / float64(k+1)}
		}
		in.ItemModels[id] = recommendations.ItemModel{ItemID: id, Neighbours: nbs, RepeatRate: 0.3}
	}
	for n := range 200 {
		in.Popular = append(in.Popular, recommendations.ScoredItem{ItemID: fmt.Sprintf("sku-%d", n), Score: float64(1000 - n)})
	}
	s := recommendations.DefaultScorer()
	for _, mode := range []recommendations.Mode{recommendations.Discover, recommendations.Mixed} {
		b.Run(string(mode), func(b *testing.B) {
			opt := recommendations.Options{Limit: 20, Mode: mode, Explain: true, ExcludePurchased: mode == recommendations.Discover}
			b.ReportAllocs()
			for b.Loop() {
				if recs := s.Score(in, opt); len(recs) != 20 {
					b.Fatalf("got %d items", len(recs))
				}
			}
		})
	}
}

// BenchmarkTrainOnlineRetail trains the default model on the whole Online
// Retail data set as the train job does: from what the customer records
// hold (4,362 customers' recent interactions and purchase summaries,
// folded from about 405k purchase and refund rows), EASE on the 4,096 most
// interacted items. "events" trains on every row instead, as training did
// before it read customer records.
func BenchmarkTrainOnlineRetail(b *testing.B) {
	cfg := recommendations.DefaultTrainConfig(servicetest.RetailAsOf)
	retail := servicetest.LoadRetail(b)
	var hs []recommendations.History
	for id, agg := range retail.Aggregates {
		h := recommendations.History{CustomerID: id}
		for _, e := range agg.Recent {
			h.Recent = append(h.Recent, recommendations.Event{ItemID: e.ItemID, Type: recommendations.EventType(e.Type), Time: e.Time})
		}
		for item, p := range agg.Purchased {
			h.Purchases = append(h.Purchases, recommendations.PurchaseSummary{ItemID: item, Count: int(p.Count), Last: p.Last})
		}
		hs = append(hs, h)
	}
	inputs := map[string][]recommendations.Interaction{
		"records": recommendations.HistoryInteractions(hs),
		"events":  loadOnlineRetail(b),
	}
	for _, name := range []string{"records", "events"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := recommendations.Train(inputs[name], nil, cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(m.Items)), "items")
				b.ReportMetric(float64(m.Head), "head")
			}
		})
	}
}

func loadOnlineRetail(tb testing.TB) []recommendations.Interaction {
	tb.Helper()
	f, err := os.Open(datasettest.Path(tb, "online_retail.csv.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []recommendations.Interaction
	err = dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
		switch r.Kind {
		case dataset.RowPurchase:
			out = append(out, recommendations.Interaction{CustomerID: r.CustomerID, ItemID: r.StockCode, Type: recommendations.Purchase, Time: r.Time, Quantity: r.Quantity})
		case dataset.RowRefund:
			out = append(out, recommendations.Interaction{CustomerID: r.CustomerID, ItemID: r.StockCode, Type: recommendations.Refund, Time: r.Time, Quantity: -r.Quantity})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
