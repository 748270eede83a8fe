package recommendations

import (
	"math"
	"testing"
	"time"
)

var asOf = time.Date(2011, 9, 1, 0, 0, 0, 0, time.UTC)

func buy(cust, item string, daysAgo float64) Interaction {
	return Interaction{CustomerID: cust, ItemID: item, Type: Purchase, Time: asOf.Add(-time.Duration(daysAgo * 24 * float64(time.Hour))), Quantity: 1}
}

// plainConfig is a configuration with no decay, no shrinkage and unit
// purchase weight, so expected values can be worked out by hand.
func plainConfig(m Measure, t Transform) TrainConfig {
	return TrainConfig{AsOf: asOf, Neighbours: 10, Measure: m, Transform: t,
		EventWeights: map[EventType]float64{Purchase: 1, View: 1, Refund: -1}}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func score(t *testing.T, m *Model, from, to string) float64 {
	t.Helper()
	for _, nb := range m.Items[from].Neighbours {
		if nb.ItemID == to {
			return nb.Score
		}
	}
	return 0
}

func TestSimilarityByHand(t *testing.T) {
	// Binary matrix (customers × items):
	//        x  y  z
	//   A    1  1  0
	//   B    1  1  1
	//   C    1  0  1
	binary := []Interaction{buy("A", "x", 1), buy("A", "y", 1), buy("B", "x", 1), buy("B", "y", 1), buy("B", "z", 1), buy("C", "x", 1), buy("C", "z", 1)}
	// Weighted (Linear): A bought x twice and y once, B x once and y three times.
	//        x  y
	//   A    2  1
	//   B    1  3
	weighted := []Interaction{buy("A", "x", 1), buy("A", "x", 2), buy("A", "y", 1), buy("B", "x", 1), buy("B", "y", 1), buy("B", "y", 2), buy("B", "y", 3)}
	tests := []struct {
		name      string
		data      []Interaction
		cfg       TrainConfig
		from, to  string
		want      float64
		reasoning string
	}{
		{"cosine x-y", binary, plainConfig(Cosine, Binary), "x", "y", 2 / math.Sqrt(6), "x·y = 2, |x| = √3, |y| = √2"},
		{"cosine y-z", binary, plainConfig(Cosine, Binary), "y", "z", 0.5, "y·z = 1, |y| = |z| = √2"},
		{"jaccard x-y", binary, plainConfig(Jaccard, Binary), "x", "y", 2.0 / 3, "both {A,B}, either {A,B,C}"},
		{"jaccard y-z", binary, plainConfig(Jaccard, Binary), "z", "y", 1.0 / 3, "both {B}, either {A,B,C}"},
		{"lift x-y", binary, plainConfig(Lift, Binary), "x", "y", 1, "2·3 / (3·2)"},
		{"lift y-z", binary, plainConfig(Lift, Binary), "y", "z", 0.75, "1·3 / (2·2)"},
		{"cosine with shrinkage 1", binary, func() TrainConfig { c := plainConfig(Cosine, Binary); c.Shrinkage = 1; return c }(), "y", "z", 0.5 * 1 / (1 + 1), "0.5 × n/(n+λ), n = 1"},
		{"jaccard with shrinkage 2", binary, func() TrainConfig { c := plainConfig(Jaccard, Binary); c.Shrinkage = 2; return c }(), "x", "y", 2.0 / 3 * 2 / 4, "2/3 × 2/(2+2)"},
		{"weighted cosine", weighted, plainConfig(Cosine, Linear), "x", "y", 5 / math.Sqrt(50), "(2·1 + 1·3) / (√5·√10)"},
		{"weighted jaccard", weighted, plainConfig(Jaccard, Linear), "x", "y", 0.4, "(1+1) / (2+3)"},
		{"weighted lift", weighted, plainConfig(Lift, Linear), "x", "y", 1.0 / 3, "Σmin 2 · N 2 / (mass 3 · mass 4)"},
		{"log1p cosine", weighted, plainConfig(Cosine, Log1p), "x", "y",
			(math.Log(3)*math.Log(2) + math.Log(2)*math.Log(4)) / math.Sqrt((math.Log(3)*math.Log(3)+math.Log(2)*math.Log(2))*(math.Log(2)*math.Log(2)+math.Log(4)*math.Log(4))),
			"entries ln(1+w): x = (ln3, ln2), y = (ln2, ln4)"},
		{"decay halves a 10-day-old event", []Interaction{buy("A", "x", 10), buy("A", "y", 0), buy("B", "x", 0), buy("B", "y", 0)},
			func() TrainConfig { c := plainConfig(Cosine, Linear); c.HalfLife = 10 * 24 * time.Hour; return c }(), "x", "y",
			1.5 / (math.Sqrt(1.25) * math.Sqrt(2)), "x = (0.5, 1), y = (1, 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Train(tt.data, nil, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := score(t, m, tt.from, tt.to); !near(got, tt.want) {
				t.Errorf("sim(%s,%s) = %.6f, want %.6f (%s)", tt.from, tt.to, got, tt.want, tt.reasoning)
			}
			if got, back := score(t, m, tt.from, tt.to), score(t, m, tt.to, tt.from); !near(got, back) {
				t.Errorf("not symmetric: %v vs %v", got, back)
			}
		})
	}
}

func TestNeighbourListsSortedAndCapped(t *testing.T) {
	// x co-occurs with y in 3 baskets, z in 2, w in 1: lists must come out
	// in that order and be cut at K.
	var data []Interaction
	for n, items := range [][]string{{"x", "y", "z", "w"}, {"x", "y", "z"}, {"x", "y"}} {
		for _, it := range items {
			data = append(data, buy(string(rune('A'+n)), it, 1))
		}
	}
	cfg := plainConfig(Jaccard, Binary)
	cfg.Neighbours = 2
	m, err := Train(data, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Items["x"].Neighbours
	// jaccard(x,y) = 3/3, jaccard(x,z) = 2/3, jaccard(x,w) = 1/3.
	if len(got) != 2 || got[0].ItemID != "y" || got[1].ItemID != "z" || !near(got[0].Score, 1) || !near(got[1].Score, 2.0/3) {
		t.Fatalf("neighbours of x = %v", got)
	}
	if c := m.Items["x"].Customers; c != 3 {
		t.Errorf("customers of x = %d, want 3", c)
	}
}

func TestTrainingRules(t *testing.T) {
	tests := []struct {
		name string
		data []Interaction
		cfg  func(*TrainConfig)
		// pair (from,to) and whether it must be linked
		from, to string
		linked   bool
	}{
		{"refund cancels a purchase", []Interaction{buy("A", "x", 2), buy("A", "y", 2), {CustomerID: "A", ItemID: "y", Type: Refund, Time: asOf.Add(-24 * time.Hour)}},
			nil, "x", "y", false},
		{"events after AsOf are ignored", []Interaction{buy("A", "x", 1), buy("A", "y", -1)}, nil, "x", "y", false},
		{"types without weight are ignored", []Interaction{buy("A", "x", 1), {CustomerID: "A", ItemID: "y", Type: "search", Time: asOf}}, nil, "x", "y", false},
		{"history cap keeps the most recent items", []Interaction{buy("A", "x", 3), buy("A", "y", 2), buy("A", "z", 1)},
			func(c *TrainConfig) { c.MaxHistory = 2 }, "y", "z", true},
		{"history cap drops older items", []Interaction{buy("A", "x", 3), buy("A", "y", 2), buy("A", "z", 1)},
			func(c *TrainConfig) { c.MaxHistory = 2 }, "x", "y", false},
		{"a view links items", []Interaction{buy("A", "x", 1), {CustomerID: "A", ItemID: "y", Type: View, Time: asOf}}, nil, "x", "y", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := plainConfig(Cosine, Binary)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m, err := Train(tt.data, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := score(t, m, tt.from, tt.to) > 0; got != tt.linked {
				t.Errorf("linked(%s,%s) = %v, want %v; model %+v", tt.from, tt.to, got, tt.linked, m.Items)
			}
		})
	}
}

func TestRepeatRate(t *testing.T) {
	// x: A bought it on two days, B on one (twice the same day): 1 repeater of 2 buyers.
	// y: C bought it once. Catalogue rate = 1 repeater / 3 buyer-item pairs.
	data := []Interaction{buy("A", "x", 10), buy("A", "x", 3), buy("B", "x", 2), buy("B", "x", 2), buy("C", "y", 1), buy("C", "x", 5)}
	cfg := plainConfig(Cosine, Binary)
	m, err := Train(data, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 4 buyer-item pairs (A-x, B-x, C-x, C-y), 1 repeater.
	if !near(m.RepeatRate, 0.25) {
		t.Errorf("catalogue repeat rate = %v, want 0.25", m.RepeatRate)
	}
	if got := m.Items["x"].RepeatRate; !near(got, 1.0/3) {
		t.Errorf("x repeat rate without prior = %v, want 1/3", got)
	}
	cfg.RepeatPrior = 4
	m, _ = Train(data, nil, cfg)
	// (1 + 4·0.25) / (3 + 4) = 2/7
	if got := m.Items["x"].RepeatRate; !near(got, 2.0/7) {
		t.Errorf("x repeat rate with prior 4 = %v, want 2/7", got)
	}
	// (0 + 4·0.25) / (1 + 4) = 0.2
	if got := m.Items["y"].RepeatRate; !near(got, 0.2) {
		t.Errorf("y repeat rate with prior 4 = %v, want 0.2", got)
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(nil, nil, plainConfig(Cosine, Binary)); err != ErrNoData {
		t.Errorf("empty input: err = %v, want ErrNoData", err)
	}
	cfg := plainConfig(Cosine, Binary)
	cfg.Neighbours = 0
	if _, err := Train([]Interaction{buy("A", "x", 1)}, nil, cfg); err == nil {
		t.Error("K = 0 accepted")
	}
}

func TestPopularity(t *testing.T) {
	attrs := map[string]Item{"x": {ItemID: "x", Category: "home/kitchen"}, "y": {ItemID: "y", Category: "garden"}}
	data := []Interaction{
		buy("c1", "x", 2),
		{CustomerID: "c2", ItemID: "x", Type: View, Time: asOf.Add(-12 * time.Hour)},
		buy("c3", "y", 0.5), buy("c3", "y", 0.4), // one customer counts once
		buy("c4", "y", 10), // outside both windows
	}
	lists := Popularity(data, attrs, asOf, []int{7, 1}, 10, DefaultEventWeights())
	tests := []struct {
		window int
		cat    string
		want   []ScoredItem
	}{
		{1, "", []ScoredItem{{"y", 5}, {"x", 1}}},
		{1, "home", []ScoredItem{{"x", 1}}},
		{1, "garden", []ScoredItem{{"y", 5}}},
		{7, "", []ScoredItem{{"x", 6}, {"y", 5}}},
	}
	for _, tt := range tests {
		got := FindPopular(lists, tt.window, tt.cat)
		if len(got) != len(tt.want) {
			t.Errorf("window %d %q = %v, want %v", tt.window, tt.cat, got, tt.want)
			continue
		}
		for n := range got {
			if got[n] != tt.want[n] {
				t.Errorf("window %d %q = %v, want %v", tt.window, tt.cat, got, tt.want)
			}
		}
	}
	if lists[0].WindowDays != 1 {
		t.Errorf("lists not ordered by window: first is %d", lists[0].WindowDays)
	}
}
