package recommendations

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// plainScorer has no decay, boosts or diversity, so scores are sums of
// weight × similarity that can be checked by hand.
func plainScorer() Scorer {
	return Scorer{EventWeights: map[EventType]float64{View: 1, AddToCart: 3, Purchase: 5, Refund: -5}, MixWeight: 0.5}
}

func shelf(specs ...string) map[string]Item {
	// spec "id:category:price" with an optional "!" suffix for out of stock.
	items := map[string]Item{}
	for _, s := range specs {
		var id, cat string
		var price int64
		inStock := true
		if s[len(s)-1] == '!' {
			inStock = false
			s = s[:len(s)-1]
		}
		parts := splitN(s, ':', 3)
		id, cat = parts[0], parts[1]
		fmt.Sscan(parts[2], &price)
		items[id] = Item{ItemID: id, Category: cat, PriceMinor: price, InStock: inStock}
	}
	return items
}

func splitN(s string, sep byte, n int) []string {
	var out []string
	for len(out) < n-1 {
		i := slices.Index([]byte(s), sep)
		if i < 0 {
			break
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
	return append(out, s)
}

func ids(recs []Recommendation) []string {
	out := make([]string, len(recs))
	for n, r := range recs {
		out[n] = r.ItemID
	}
	return out
}

// baseInput: the customer bought h1 and viewed h2, both just now.
//
//	h1 (w 5): a 0.5, b 0.4          a = 5·0.5         = 2.5
//	h2 (w 1): b 0.9, c 0.8          b = 5·0.4 + 1·0.9 = 2.9
//	                                c = 1·0.8         = 0.8
func baseInput() Input {
	return Input{
		Now:       now,
		Recent:    []Event{{ItemID: "h1", Type: Purchase, Time: now}, {ItemID: "h2", Type: View, Time: now}},
		Purchases: []PurchaseSummary{{ItemID: "h1", Count: 1, Last: now}},
		ItemModels: map[string]ItemModel{
			"h1": {ItemID: "h1", Neighbours: []Neighbour{{"a", 0.5}, {"b", 0.4}}, RepeatRate: 0.5},
			"h2": {ItemID: "h2", Neighbours: []Neighbour{{"b", 0.9}, {"c", 0.8}, {"h1", 0.1}}},
		},
		Items: shelf("a:home/kitchen:500", "b:home/bath:1500", "c:garden:2500", "h1:home:1000", "h2:garden:800",
			"p1:toys:100", "p2:garden/tools:100", "p3:home:100"),
		Popular:           []ScoredItem{{"p1", 9}, {"p2", 8}, {"p3", 7}, {"a", 6}},
		PopularByCategory: map[string][]ScoredItem{"garden": {{"p2", 8}, {"c", 1}}, "home": {{"p3", 7}}},
	}
}

func TestScoreDiscoverByHand(t *testing.T) {
	recs := plainScorer().Score(baseInput(), Options{Limit: 3, Explain: true, ExcludePurchased: true})
	want := []struct {
		id      string
		score   float64
		kind    ReasonKind
		because []string
	}{
		{"b", 2.9, ReasonBought, []string{"h1", "h2"}},
		{"a", 2.5, ReasonBought, []string{"h1"}},
		{"c", 0.8, ReasonViewed, []string{"h2"}},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %v", recs)
	}
	for n, w := range want {
		r := recs[n]
		if r.ItemID != w.id || !near(r.Score, w.score) || r.Backfill || r.Reason == nil || r.Reason.Kind != w.kind || !slices.Equal(r.Reason.Items, w.because) {
			t.Errorf("rank %d = %+v %+v, want %s %.2f %s %v", n+1, r, r.Reason, w.id, w.score, w.kind, w.because)
		}
	}
	if got := recs[0].Reason.Text; got != "because you bought h1 and h2" {
		t.Errorf("text = %q", got)
	}
}

func TestScoreFilters(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Input, *Options)
		want []string
	}{
		{"no filter", nil, []string{"b", "a", "c", "h1"}},
		{"out of stock is always excluded", func(in *Input, _ *Options) {
			in.Items["b"] = Item{ItemID: "b", Category: "home/bath", PriceMinor: 1500}
		}, []string{"a", "c", "h1"}},
		{"unknown items are excluded", func(in *Input, _ *Options) { delete(in.Items, "a") }, []string{"b", "c", "h1"}},
		{"include category", func(_ *Input, o *Options) { o.IncludeCategories = []string{"home"} }, []string{"b", "a", "h1"}},
		{"include subcategory", func(_ *Input, o *Options) { o.IncludeCategories = []string{"home/bath"} }, []string{"b"}},
		{"exclude category", func(_ *Input, o *Options) { o.ExcludeCategories = []string{"home/kitchen", "garden"} }, []string{"b", "h1"}},
		{"category match is on whole segments", func(_ *Input, o *Options) { o.IncludeCategories = []string{"hom"} }, nil},
		{"min price", func(_ *Input, o *Options) { o.MinPriceMinor = 1000 }, []string{"b", "c", "h1"}},
		{"max price", func(_ *Input, o *Options) { o.MaxPriceMinor = 1000 }, []string{"a", "h1"}},
		{"exclude purchased", func(_ *Input, o *Options) { o.ExcludePurchased = true }, []string{"b", "a", "c"}},
		{"exclude in cart", func(in *Input, o *Options) { in.InCart = []string{"a"}; o.ExcludeInCart = true }, []string{"b", "c", "h1"}},
		{"in cart kept unless asked", func(in *Input, _ *Options) { in.InCart = []string{"a"} }, []string{"b", "a", "c", "h1"}},
		{"explicit exclusions", func(_ *Input, o *Options) { o.Exclude = []string{"b", "c"} }, []string{"a", "h1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			opt := Options{Limit: 10}
			if tt.edit != nil {
				tt.edit(&in, &opt)
			}
			recs := plainScorer().Score(in, opt)
			var personal []string
			for _, r := range recs {
				if !r.Backfill {
					personal = append(personal, r.ItemID)
				}
			}
			if !slices.Equal(personal, tt.want) {
				t.Errorf("personalized part = %v, want %v", personal, tt.want)
			}
			// Backfill obeys the same filters.
			f := newFilter(in, opt)
			for _, r := range recs {
				if !f.allowed(r.ItemID) {
					t.Errorf("%s returned although filtered", r.ItemID)
				}
			}
		})
	}
}

func TestScoreBackfillAndColdStart(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Input)
		limit   int
		want    []string
		reasons []ReasonKind
	}{
		{"exactly limit: personalized then popular, marked", nil, 5,
			[]string{"b", "a", "c", "p1", "p2"},
			[]ReasonKind{ReasonBought, ReasonBought, ReasonViewed, ReasonPopular, ReasonPopular}},
		{"cold start: global popular", func(in *Input) { in.Recent, in.Purchases = nil, nil }, 3,
			[]string{"p1", "p2", "p3"}, []ReasonKind{ReasonPopular, ReasonPopular, ReasonPopular}},
		{"cold start: declared categories first, then affinity, then global", func(in *Input) {
			in.Recent, in.Purchases = nil, nil
			in.DeclaredCategories = []string{"home"}
			in.CategoryAffinity = map[string]float64{"garden": 2}
		}, 4, []string{"p3", "p2", "c", "p1"}, []ReasonKind{ReasonPopularIn, ReasonPopularIn, ReasonPopularIn, ReasonPopular}},
		{"catalogue fill when popularity runs out", func(in *Input) {
			in.Recent, in.Purchases, in.PopularByCategory = nil, nil, nil
			in.Popular = []ScoredItem{{"p1", 1}}
		}, 3, []string{"p1", "a", "b"}, []ReasonKind{ReasonPopular, ReasonCatalogFill, ReasonCatalogFill}},
		{"short list when the catalogue is exhausted", func(in *Input) {
			in.Items = shelf("a:home:1", "b:home:1!")
			in.Recent, in.Purchases = nil, nil
		}, 5, []string{"a"}, []ReasonKind{ReasonPopular}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			if tt.edit != nil {
				tt.edit(&in)
			}
			recs := plainScorer().Score(in, Options{Limit: tt.limit, Explain: true, ExcludePurchased: true})
			if !slices.Equal(ids(recs), tt.want) {
				t.Fatalf("got %v, want %v", recs, tt.want)
			}
			for n, r := range recs {
				if r.Reason.Kind != tt.reasons[n] {
					t.Errorf("%s: reason %s, want %s", r.ItemID, r.Reason.Kind, tt.reasons[n])
				}
				personal := r.Reason.Kind == ReasonBought || r.Reason.Kind == ReasonViewed
				if r.Backfill == personal {
					t.Errorf("%s: backfill = %v with reason %s", r.ItemID, r.Backfill, r.Reason.Kind)
				}
			}
		})
	}
	if got := plainScorer().Score(baseInput(), Options{Limit: 4, Explain: true, ExcludePurchased: true}); got[3].Reason.Text != "popular" {
		t.Errorf("text %q", got[3].Reason.Text)
	}
}

func TestPopularInCategoryText(t *testing.T) {
	in := baseInput()
	in.Recent, in.Purchases = nil, nil
	in.DeclaredCategories = []string{"garden"}
	recs := plainScorer().Score(in, Options{Limit: 1, Explain: true})
	if r := recs[0]; r.ItemID != "p2" || r.Reason.Text != "popular in garden" || r.Reason.Category != "garden" {
		t.Errorf("got %+v %+v", r, r.Reason)
	}
}

func TestDiversity(t *testing.T) {
	// h1's neighbours: five kitchen items scoring above two garden items.
	in := Input{
		Now:    now,
		Recent: []Event{{ItemID: "h1", Type: Purchase, Time: now}},
		ItemModels: map[string]ItemModel{"h1": {Neighbours: []Neighbour{
			{"k1", 0.9}, {"k2", 0.8}, {"k3", 0.7}, {"k4", 0.6}, {"k5", 0.5}, {"g1", 0.2}, {"g2", 0.1}}}},
		Items: shelf("k1:home/kitchen:1", "k2:home/kitchen:1", "k3:home:1", "k4:home/bath:1", "k5:home:1",
			"g1:garden:1", "g2:garden:1", "x1::1", "x2::1"),
	}
	tests := []struct {
		name   string
		perCat int
		window int
		items  map[string]Item
		want   []string
	}{
		{"off", 0, 0, nil, []string{"k1", "k2", "k3", "k4", "k5", "g1", "g2"}},
		{"at most 2 home items in the first 4", 2, 4, nil, []string{"k1", "k2", "g1", "g2", "k3", "k4", "k5"}},
		{"at most 3 in the first 5", 3, 5, nil, []string{"k1", "k2", "k3", "g1", "g2", "k4", "k5"}},
		{"no alternatives: order kept", 2, 4, shelf("k1:home:1", "k2:home:1", "k3:home:1", "k4:home:1", "k5:home:1"),
			[]string{"k1", "k2", "k3", "k4", "k5"}},
		{"uncategorised items are not capped", 1, 4, shelf("k1::1", "k2::1", "k3::1", "k4::1", "k5::1", "g1:garden:1", "g2:garden:1"),
			[]string{"k1", "k2", "k3", "k4", "k5", "g1", "g2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := plainScorer()
			s.MaxPerCategory, s.DiversityWindow = tt.perCat, tt.window
			in := in
			if tt.items != nil {
				in.Items = tt.items
			}
			recs := s.Score(in, Options{Limit: len(tt.want)})
			if !slices.Equal(ids(recs), tt.want) {
				t.Errorf("got %v, want %v", ids(recs), tt.want)
			}
		})
	}
}

func TestBuyAgain(t *testing.T) {
	// Score = (count + c/(c+1)) × rate^0.5 × decay, c the item's customers
	// in training, half-life 60 days:
	//   p1: 3 buys, 60 days ago, c 1, rate 0.25: (3 + 1/2)·0.5·0.5 = 0.875
	//   p2: 1 buy, today, c 3, rate 0.25:        (1 + 3/4)·0.5     = 0.875 → tie, p1 < p2 by id
	//   p3: 1 buy, today, c 1, rate 0.25:        (1 + 1/2)·0.5     = 0.75
	//   p4: 1 buy, today, no model:              rate 0 → 0, not listed
	in := Input{
		Now: now,
		Purchases: []PurchaseSummary{
			{ItemID: "p1", Count: 3, Last: now.Add(-60 * 24 * time.Hour)},
			{ItemID: "p2", Count: 1, Last: now},
			{ItemID: "p3", Count: 1, Last: now},
			{ItemID: "p4", Count: 1, Last: now},
			{ItemID: "gone", Count: 9, Last: now},
		},
		ItemModels: map[string]ItemModel{"p1": {RepeatRate: 0.25, Customers: 1}, "p2": {RepeatRate: 0.25, Customers: 3, Neighbours: []Neighbour{{"n1", 1}}},
			"p3": {RepeatRate: 0.25, Customers: 1}, "gone": {RepeatRate: 1, Customers: 9}},
		Items: shelf("p1::1", "p2::1", "p3::1", "p4::1", "n1::1", "gone::1!"),
	}
	s := plainScorer()
	s.RepeatRateExponent = 0.5
	s.BuyAgainHalfLife = 60 * 24 * time.Hour
	recs := s.Score(in, Options{Limit: 3, Mode: BuyAgain, Explain: true, ExcludePurchased: true})
	if !slices.Equal(ids(recs), []string{"p1", "p2", "p3"}) || !near(recs[0].Score, 0.875) || !near(recs[1].Score, 0.875) || !near(recs[2].Score, 0.75) {
		t.Fatalf("buy again = %v", recs)
	}
	for _, r := range recs {
		if r.Reason.Kind != ReasonBuyAgain || r.Reason.Text != "you bought this before" || r.Backfill {
			t.Errorf("%s: %+v", r.ItemID, r.Reason)
		}
	}
	// With no ageing and no repeat-rate factor the rule is purchase count,
	// popularity breaking ties: p1 (3), then p2 before p3 (3 customers > 1).
	s.BuyAgainHalfLife, s.RepeatRateExponent = 0, 0
	if recs := s.Score(in, Options{Limit: 4, Mode: BuyAgain}); !slices.Equal(ids(recs), []string{"p1", "p2", "p3", "p4"}) {
		t.Errorf("count with popularity tie-break = %v", recs)
	}
}

func TestMixed(t *testing.T) {
	// Discovery: n1 = 5·1 = 5 (via p2, linear history). Buy-again (no
	// repeat-rate factor): p2 = 1 + 1/2, p1 = 2 + 1/2; mixed adds
	// mix × ln(1 + buy-again).
	in := Input{
		Now:       now,
		Purchases: []PurchaseSummary{{ItemID: "p2", Count: 1, Last: now}, {ItemID: "p1", Count: 2, Last: now}},
		ItemModels: map[string]ItemModel{
			"p1": {Customers: 1},
			"p2": {Customers: 1, Neighbours: []Neighbour{{"n1", 1}, {"p1", -0.1}}},
		},
		Items: shelf("p1::1", "p2::1", "n1::1"),
	}
	p1 := func(mix float64) float64 { return -0.5 + mix*math.Log1p(2.5) }
	p2 := func(mix float64) float64 { return mix * math.Log1p(1.5) }
	tests := []struct {
		mix  float64
		want []string
		top  float64
	}{
		{1, []string{"n1", "p2", "p1"}, 5},     // p1 = −0.5 + 1.253 = 0.753, p2 = 0.916
		{5, []string{"p1", "n1", "p2"}, p1(5)}, // p1 = 5.764, p2 = 4.581
		{0.1, []string{"n1", "p2", "p1"}, 5},   // p1 = −0.5 + 0.125 < 0: only as backfill
	}
	for _, tt := range tests {
		s := plainScorer()
		s.MixWeight = tt.mix
		recs := s.Score(in, Options{Limit: 3, Mode: Mixed})
		if !slices.Equal(ids(recs), tt.want) || !near(recs[0].Score, tt.top) || recs[2].Backfill != (tt.mix < 0.5) {
			t.Errorf("mix %.1f: got %v, want %v (top %.3f; p1 %.3f p2 %.3f)", tt.mix, recs, tt.want, tt.top, p1(tt.mix), p2(tt.mix))
		}
	}
}

func TestCategoryBoostAndRecency(t *testing.T) {
	in := baseInput()
	// Affinity for garden (normalised 1) with boost 1 doubles c: 0.8 → 1.6.
	in.CategoryAffinity = map[string]float64{"garden": 4, "home": 0}
	s := plainScorer()
	s.CategoryBoost = 1
	recs := s.Score(in, Options{Limit: 3, ExcludePurchased: true})
	if recs[2].ItemID != "c" || !near(recs[2].Score, 1.6) {
		t.Errorf("boosted = %v", recs)
	}
	// Recency: the purchase of h1 ten days ago with a 10-day half-life counts 2.5:
	// a = 2.5·0.5 = 1.25, b = 2.5·0.4 + 0.9 = 1.9, c = 0.8.
	in = baseInput()
	in.Recent[0].Time = now.Add(-10 * 24 * time.Hour)
	s = plainScorer()
	s.RecencyHalfLife = 10 * 24 * time.Hour
	recs = s.Score(in, Options{Limit: 3, ExcludePurchased: true})
	if !near(recs[0].Score, 1.9) || !near(recs[1].Score, 1.25) {
		t.Errorf("decayed = %v", recs)
	}
}

func TestOlderPurchasesCountAsHistory(t *testing.T) {
	// A purchase absent from the recent list still seeds discovery.
	in := baseInput()
	in.Recent = nil
	in.Purchases = []PurchaseSummary{{ItemID: "h2", Count: 2, Last: now}}
	recs := plainScorer().Score(in, Options{Limit: 2, Explain: true, ExcludePurchased: true})
	// b = 5·0.9, c = 5·0.8
	if !slices.Equal(ids(recs), []string{"b", "c"}) || !near(recs[0].Score, 4.5) || recs[0].Reason.Kind != ReasonBought {
		t.Errorf("got %v", recs)
	}
}

func TestScoreZeroLimit(t *testing.T) {
	if recs := DefaultScorer().Score(baseInput(), Options{}); recs != nil {
		t.Errorf("limit 0 returned %v", recs)
	}
}
