package eval

import (
	"math"
	"slices"
	"testing"
	"time"

	"tailor/shared/recommendations"
)

func TestUserMetricsByHand(t *testing.T) {
	rel := map[string]bool{"b": true, "d": true, "e": true}
	l3, l5 := math.Log2(3), math.Log2(5)
	tests := []struct {
		name                string
		list                []string
		k                   int
		p, r, ndcg, ap, hit float64
	}{
		// Hits at ranks 2 and 4. DCG = 1/log2 3 + 1/log2 5; ideal over
		// min(3, 4) = 3 ranks: 1 + 1/log2 3 + 1/2. AP = (1/2 + 2/4) / 3.
		{"hits at 2 and 4", []string{"a", "b", "c", "d"}, 4, 0.5, 2.0 / 3, (1/l3 + 1/l5) / (1 + 1/l3 + 0.5), 1.0 / 3, 1},
		// k = 2 cuts the list to [a b]: one hit at rank 2; ideal over min(3,2) = 2.
		{"cut at k", []string{"a", "b", "c", "d"}, 2, 0.5, 1.0 / 3, (1 / l3) / (1 + 1/l3), 0.5 / 2, 1},
		// Short list: precision still divides by k.
		{"short list", []string{"e"}, 10, 0.1, 1.0 / 3, 1 / (1 + 1/l3 + 0.5), 1.0 / 3, 1},
		{"no hit", []string{"x", "y"}, 10, 0, 0, 0, 0, 0},
		{"perfect", []string{"d", "e", "b"}, 3, 1, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		p, r, n, ap, hit := UserMetrics(tt.list, rel, tt.k)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"precision", p, tt.p}, {"recall", r, tt.r}, {"ndcg", n, tt.ndcg}, {"ap", ap, tt.ap}, {"hit", hit, tt.hit}} {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Errorf("%s: %s = %.6f, want %.6f", tt.name, c.name, c.got, c.want)
			}
		}
	}
}

var t0 = time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)

func ev(user, item string, day int, typ recommendations.EventType) recommendations.Interaction {
	return recommendations.Interaction{CustomerID: user, ItemID: item, Type: typ, Time: t0.AddDate(0, 0, day), Quantity: 1}
}

// small: u1 and u2 buy on both sides of day 10; u3 only before; u4 only after.
func small() []recommendations.Interaction {
	return []recommendations.Interaction{
		ev("u1", "a", 1, recommendations.Purchase), ev("u1", "b", 2, recommendations.Purchase), ev("u1", "c", 3, recommendations.View),
		ev("u1", "c", 11, recommendations.Purchase), ev("u1", "d", 12, recommendations.Purchase), ev("u1", "a", 12, recommendations.Purchase),
		ev("u2", "a", 1, recommendations.Purchase), ev("u2", "c", 2, recommendations.Purchase),
		ev("u2", "b", 15, recommendations.Purchase), ev("u2", "b", 16, recommendations.Purchase), ev("u2", "e", 17, recommendations.View),
		ev("u3", "a", 1, recommendations.Purchase), ev("u3", "b", 1, recommendations.Purchase), ev("u3", "d", 1, recommendations.Purchase),
		ev("u4", "a", 14, recommendations.Purchase),
	}
}

func TestTimeSplit(t *testing.T) {
	s, err := TimeSplit(small(), t0.AddDate(0, 0, 10), false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Users, []string{"u1", "u2"}) {
		t.Errorf("users = %v", s.Users)
	}
	if got := keys(s.Relevant["u1"]); !slices.Equal(got, []string{"a", "c", "d"}) {
		t.Errorf("relevant u1 = %v (distinct purchases after the cutoff, views do not count)", got)
	}
	if got := keys(s.Relevant["u2"]); !slices.Equal(got, []string{"b"}) {
		t.Errorf("relevant u2 = %v", got)
	}
	if got := keys(s.Seen["u1"]); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("seen u1 = %v", got)
	}
	if len(s.Train) != 8 || !s.AsOf.Equal(t0.AddDate(0, 0, 10)) {
		t.Errorf("train = %d rows, asOf %v", len(s.Train), s.AsOf)
	}
	if _, err := TimeSplit(small(), t0.AddDate(1, 0, 0), false); err == nil {
		t.Error("cutoff after all data accepted")
	}
}

func TestStratifiedSplitIsSeededAndPerUser(t *testing.T) {
	var data []recommendations.Interaction
	for u := range 20 {
		for d := range 10 {
			data = append(data, ev(string(rune('A'+u)), string(rune('a'+d)), d, recommendations.Purchase))
		}
	}
	a, err := StratifiedSplit(data, 0.7, 42, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := StratifiedSplit(data, 0.7, 42, false)
	c, _ := StratifiedSplit(data, 0.7, 43, false)
	if len(a.Train) != 20*7 {
		t.Errorf("train rows = %d, want 7 per user", len(a.Train))
	}
	if !slices.Equal(a.Users, b.Users) || !slices.EqualFunc(a.Train, b.Train, func(x, y recommendations.Interaction) bool { return x == y }) {
		t.Error("same seed gave different splits")
	}
	if slices.EqualFunc(a.Train, c.Train, func(x, y recommendations.Interaction) bool { return x == y }) {
		t.Error("different seeds gave the same split")
	}
	for _, u := range a.Users {
		if n := len(a.Relevant[u]); n != 3 {
			t.Errorf("user %s: %d relevant items, want 3", u, n)
		}
	}
}

type fixed map[string][]string

func (f fixed) Recommend(user string, exclude map[string]bool, k int) []string {
	var out []string
	for _, id := range f[user] {
		if !exclude[id] && len(out) < k {
			out = append(out, id)
		}
	}
	return out
}

func TestEvaluate(t *testing.T) {
	s, _ := TimeSplit(small(), t0.AddDate(0, 0, 10), false)
	// u1 (relevant a c d, seen a b c): gets [d] after exclusions: 1 hit at rank 1.
	// u2 (relevant b, seen a c): gets [b e]: 1 hit at rank 1.
	rec := fixed{"u1": {"a", "d", "b"}, "u2": {"b", "e"}}
	m := Evaluate(s, rec, 10)
	// u1: P 0.1, R 1/3, nDCG 1/(1+1/log2 3+1/2), AP 1/3; u2: P 0.1, R 1, nDCG 1, AP 1.
	wantNDCG := (1/(1+1/math.Log2(3)+0.5) + 1) / 2
	if m.Users != 2 || math.Abs(m.Precision-0.1) > 1e-9 || math.Abs(m.Recall-2.0/3) > 1e-9 ||
		math.Abs(m.NDCG-wantNDCG) > 1e-9 || math.Abs(m.MAP-2.0/3) > 1e-9 || m.HitRate != 1 {
		t.Errorf("metrics = %+v", m)
	}
	// Recommended {d, b, e} of 4 training items {a, b, c, d}... e is not a
	// training item but still counts as recommended: 3/4.
	if math.Abs(m.Coverage-0.75) > 1e-9 {
		t.Errorf("coverage = %v, want 0.75", m.Coverage)
	}
	s.KeepSeen = true
	if m := Evaluate(s, rec, 10); math.Abs(m.Precision-0.15) > 1e-9 {
		// u1 now gets [a d b]: 2 hits.
		t.Errorf("keep-seen precision = %v, want 0.15", m.Precision)
	}
}

func TestBaselines(t *testing.T) {
	s, _ := TimeSplit(small(), t0.AddDate(0, 0, 10), true)
	// Training purchases: a by u1 u2 u3, b by u1 u3, c by u2, d by u3.
	if got := Popularity(s).Recommend("u1", nil, 3); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("popularity = %v", got)
	}
	if got := Popularity(s).Recommend("u1", map[string]bool{"a": true}, 2); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("popularity with exclusions = %v", got)
	}
	// u1 bought a then b once each: tie on count, broken by popularity (a
	// has three buyers, b two).
	if got := Repeat(s).Recommend("u1", nil, 10); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("repeat = %v", got)
	}
	knn, err := ItemKNN(s, 50)
	if err != nil {
		t.Fatal(err)
	}
	// u2 has a and c. Binary cosine: a = (u1 u2 u3), c = (u1 [view], u2),
	// b = (u1 u3), d = (u3). d: cos(a,d) = 1/√3, not linked to c → 0.577;
	// b: cos(a,b) = 2/√6 = 0.816 plus cos(c,b) = 1/2 → 1.316.
	if got := knn.Recommend("u2", map[string]bool{"a": true, "c": true}, 10); !slices.Equal(got, []string{"b", "d"}) {
		t.Errorf("itemknn = %v", got)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
