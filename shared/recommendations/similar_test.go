package recommendations

import (
	"math"
	"slices"
	"testing"
)

func TestAttributeSimilarity(t *testing.T) {
	base := Item{ItemID: "t", Category: "home/kitchen/mugs", Brand: "Acme", PriceMinor: 1000}
	tests := []struct {
		name string
		b    Item
		want float64
	}{
		{"same leaf, brand, price", Item{Category: "home/kitchen/mugs", Brand: "acme", PriceMinor: 1000}, 0.6 + 0.25 + 0.15},
		{"same department only", Item{Category: "home/kitchen/pans"}, 0.6 * 2 / 3},
		{"price at half the band", Item{Category: "garden", PriceMinor: 1414}, 0.15 * (1 - math.Log2(1.414))},
		{"price outside the band", Item{Category: "garden", PriceMinor: 2000}, 0},
		{"brand only", Item{Brand: "ACME"}, 0.25},
		{"nothing shared", Item{Category: "toys", Brand: "Other"}, 0},
	}
	for _, tt := range tests {
		if got := AttributeSimilarity(base, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %.4f, want %.4f", tt.name, got, tt.want)
		}
	}
}

func TestSimilar(t *testing.T) {
	items := shelf("t:home/kitchen:1000", "n1:home/kitchen:900", "n2:garden:100", "n3:home:5000!", "f1:home/kitchen:1000", "f2:home/bath:1000", "f3:toys:1")
	pool := []Item{items["t"], items["f1"], items["f2"], items["f3"], items["n1"]}
	tests := []struct {
		name       string
		neighbours []Neighbour
		purchased  []string
		opt        Options
		want       []string
		backfill   []bool
	}{
		{"neighbours first, then attribute fallback", []Neighbour{{"n1", 0.9}, {"n2", 0.5}, {"n3", 0.4}}, nil, Options{Limit: 4},
			[]string{"n1", "n2", "f1", "f2"}, []bool{false, false, true, true}},
		{"new item: attributes only, never itself", nil, nil, Options{Limit: 3},
			[]string{"f1", "n1", "f2"}, []bool{true, true, true}},
		{"exclude purchased", []Neighbour{{"n1", 0.9}, {"n2", 0.5}}, []string{"n1"}, Options{Limit: 2, ExcludePurchased: true},
			[]string{"n2", "f1"}, []bool{false, true}},
		{"purchased kept unless asked", []Neighbour{{"n1", 0.9}}, []string{"n1"}, Options{Limit: 1},
			[]string{"n1"}, []bool{false}},
		{"filters apply to the fallback", []Neighbour{{"n2", 0.5}}, nil, Options{Limit: 3, IncludeCategories: []string{"home"}},
			[]string{"f1", "n1", "f2"}, []bool{true, true, true}},
		{"short when nothing else fits", nil, nil, Options{Limit: 3, IncludeCategories: []string{"toys"}},
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plainScorer()
			recs := s.Similar(SimilarInput{Item: items["t"], Neighbours: tt.neighbours, Items: items, Pool: pool, Purchased: tt.purchased}, tt.opt)
			if !slices.Equal(ids(recs), tt.want) {
				t.Fatalf("got %v, want %v", recs, tt.want)
			}
			for n, r := range recs {
				if r.Backfill != tt.backfill[n] {
					t.Errorf("%s backfill = %v", r.ItemID, r.Backfill)
				}
			}
		})
	}
	recs := plainScorer().Similar(SimilarInput{Item: items["t"], Neighbours: []Neighbour{{"n1", 0.9}}, Items: items, Pool: pool}, Options{Limit: 2, Explain: true})
	if recs[0].Reason.Kind != ReasonSimilar || recs[1].Reason.Kind != ReasonAttributes || recs[1].Reason.Items[0] != "t" {
		t.Errorf("reasons %+v %+v", recs[0].Reason, recs[1].Reason)
	}
}

func TestSimilarByAttributesIsANeighbourList(t *testing.T) {
	items := shelf("t:home/kitchen:1000", "a:home/kitchen:1000", "b:home:1000", "c:toys:99999")
	got := SimilarByAttributes(items["t"], []Item{items["c"], items["b"], items["a"], items["t"]}, 5)
	// a: 0.6 + 0.15, b: 0.6·1/2 + 0.15, c: nothing shared.
	if len(got) != 2 || got[0].ItemID != "a" || got[1].ItemID != "b" || math.Abs(got[0].Score-0.75) > 1e-9 || math.Abs(got[1].Score-0.45) > 1e-9 {
		t.Errorf("got %v", got)
	}
}
