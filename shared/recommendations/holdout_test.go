package recommendations

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func TestHoldoutHistorySplitsARecord(t *testing.T) {
	cutoff := time.Date(2011, 11, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return cutoff.AddDate(0, 0, d) }
	h := History{CustomerID: "c", Recent: []Event{
		{ItemID: "a", Type: Purchase, Time: day(-10)}, {ItemID: "b", Type: View, Time: day(-1)},
		{ItemID: "c", Type: Purchase, Time: day(0)}, {ItemID: "d", Type: View, Time: day(3)},
	}, Purchases: []PurchaseSummary{
		{ItemID: "a", Count: 2, Last: day(-10)}, // before only
		{ItemID: "c", Count: 1, Last: day(0)},   // first bought at the cutoff
		{ItemID: "e", Count: 3, Last: day(5)},   // bought before and again after
	}}
	before, bought := HoldoutHistory(h, cutoff)
	if len(before.Recent) != 2 || before.Recent[0].ItemID != "a" || before.Recent[1].ItemID != "b" {
		t.Errorf("recent before the cutoff: %+v", before.Recent)
	}
	want := []PurchaseSummary{{ItemID: "a", Count: 2, Last: day(-10)}, {ItemID: "e", Count: 2, Last: cutoff.Add(-time.Second)}}
	if fmt.Sprint(before.Purchases) != fmt.Sprint(want) {
		t.Errorf("purchases before: %+v, want %+v", before.Purchases, want)
	}
	if len(bought) != 2 || !bought["c"] || !bought["e"] {
		t.Errorf("bought since: %v", bought)
	}
}

func TestUserMetricsByHand(t *testing.T) {
	// Relevant b and d; the list hits at ranks 2 and 4 of k = 4.
	p, r, n, ap, hit := UserMetrics([]string{"a", "b", "c", "d", "e"}, map[string]bool{"b": true, "d": true}, 4)
	idcg := 1 + 1/math.Log2(3)
	wantN := (1/math.Log2(3) + 1/math.Log2(5)) / idcg
	if p != 0.5 || r != 1 || math.Abs(n-wantN) > 1e-12 || math.Abs(ap-(0.5+0.5)/2) > 1e-12 || hit != 1 {
		t.Fatalf("p %v r %v ndcg %v (want %v) ap %v hit %v", p, r, n, wantN, ap, hit)
	}
	if p, _, _, _, hit := UserMetrics(nil, map[string]bool{"x": true}, 10); p != 0 || hit != 0 {
		t.Fatal("an empty list scored")
	}
}

// A shop where buyers of one item of a pair come back for the other: the
// model learns the pairs before the cutoff and ranks each customer's
// missing half; popularity cannot.
func TestEvaluateHoldoutFindsWhatCustomersBoughtNext(t *testing.T) {
	asOf := time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC)
	cutoff := asOf.AddDate(0, 0, -28)
	items := map[string]Item{}
	for i := range 20 {
		for _, side := range []string{"l", "r"} {
			id := fmt.Sprintf("%s%02d", side, i)
			items[id] = Item{ItemID: id, InStock: true}
		}
	}
	var hs []History
	for c := range 400 {
		pair := c % 20
		l, r := fmt.Sprintf("l%02d", pair), fmt.Sprintf("r%02d", pair)
		early := cutoff.AddDate(0, 0, -60+c%30)
		h := History{CustomerID: fmt.Sprintf("c%03d", c)}
		if (c/20)%4 == 0 {
			// One customer in four of every pair bought the left half
			// before the cutoff and the right one after.
			h.Purchases = []PurchaseSummary{{ItemID: l, Count: 1, Last: early}, {ItemID: r, Count: 1, Last: cutoff.AddDate(0, 0, 3)}}
		} else {
			// Bought both before: what teaches the pairs. Pair 0 is the
			// most popular by far.
			h.Purchases = []PurchaseSummary{{ItemID: l, Count: 1, Last: early}, {ItemID: r, Count: 1, Last: early}}
			if c%3 == 0 {
				h.Purchases = append(h.Purchases, PurchaseSummary{ItemID: "l00", Count: 1, Last: early}, PurchaseSummary{ItemID: "r00", Count: 1, Last: early})
			}
		}
		for _, p := range h.Purchases {
			h.Recent = append(h.Recent, Event{ItemID: p.ItemID, Type: Purchase, Time: p.Last})
		}
		hs = append(hs, h)
	}
	ev, err := EvaluateHoldout(hs, items, DefaultTrainConfig(asOf), DefaultScorer(), asOf, 28, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Customers != 100 || ev.K != 10 || !ev.Cutoff.Equal(cutoff) || len(ev.Models) != 2 {
		t.Fatalf("evaluation %+v", ev)
	}
	tailor, pop := ev.Models[0], ev.Models[1]
	if tailor.Model != "tailor" || pop.Model != "popularity" || tailor.Users != 100 {
		t.Fatalf("models %+v", ev.Models)
	}
	if tailor.HitRate < 0.95 || tailor.HitRate <= pop.HitRate || tailor.NDCG <= pop.NDCG {
		t.Errorf("tailor hit rate %.3f ndcg %.3f; popularity %.3f %.3f", tailor.HitRate, tailor.NDCG, pop.HitRate, pop.NDCG)
	}
	// Nobody bought after the cutoff: nothing to evaluate.
	if _, err := EvaluateHoldout(hs, items, DefaultTrainConfig(asOf), DefaultScorer(), cutoff.AddDate(0, 0, -100), 28, 10); !errors.Is(err, ErrNoData) {
		t.Errorf("an evaluation before any purchase: %v", err)
	}
}
