package holdout

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"tailor/shared/segments/clv"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// pairwiseAUC counts, over every (positive, negative) pair, how often the
// positive scores higher (ties one half): the definition, in O(n²).
func pairwiseAUC(s []float64, y []bool) float64 {
	var wins, pairs float64
	for i := range s {
		for j := range s {
			if !y[i] || y[j] {
				continue
			}
			pairs++
			switch {
			case s[i] > s[j]:
				wins++
			case s[i] == s[j]:
				wins += 0.5
			}
		}
	}
	return wins / pairs
}

func TestAUCMatchesPairwiseDefinition(t *testing.T) {
	// By hand: positives 0.9, 0.5 (tie with a negative), negatives 0.5, 0.1:
	// pairs (0.9,0.5) 1, (0.9,0.1) 1, (0.5,0.5) ½, (0.5,0.1) 1 → 3.5/4.
	if got := AUC([]float64{0.9, 0.5, 0.5, 0.1}, []bool{true, true, false, false}); got != 0.875 {
		t.Fatalf("AUC = %v, want 0.875", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		n := 50 + r.IntN(200)
		s, y := make([]float64, n), make([]bool, n)
		for i := range s {
			s[i] = math.Round(r.Float64()*20) / 20 // many ties
			y[i] = r.Float64() < s[i]
		}
		if got, want := AUC(s, y), pairwiseAUC(s, y); !near(got, want, 1e-12) {
			t.Fatalf("AUC = %v, pairwise %v", got, want)
		}
	}
	if !math.IsNaN(AUC([]float64{0.1, 0.2}, []bool{true, true})) {
		t.Error("AUC with no negative is not NaN")
	}
}

func TestBrierAndReliability(t *testing.T) {
	p := []float64{0.05, 0.15, 0.15, 0.95, 1}
	y := []bool{false, true, false, true, true}
	// (0.05² + 0.85² + 0.15² + 0.05² + 0) / 5
	if got := Brier(p, y); !near(got, (0.0025+0.7225+0.0225+0.0025)/5, 1e-12) {
		t.Fatalf("Brier = %v", got)
	}
	bins := Reliability(p, y, 10)
	if len(bins) != 10 || bins[0].Customers != 1 || bins[0].Observed != 0 || bins[1].Customers != 2 ||
		!near(bins[1].Predicted, 0.15, 1e-12) || bins[1].Observed != 0.5 || bins[9].Customers != 2 || bins[9].Observed != 1 ||
		!near(bins[9].Predicted, 0.975, 1e-12) || bins[5].Customers != 0 {
		t.Fatalf("bins = %+v", bins)
	}
}

func TestSpearmanWithTies(t *testing.T) {
	// a ranks 1, 2.5, 2.5, 4; b ranks 1, 2, 4, 3. Pearson on ranks, by hand:
	// deviations a (−1.5, 0, 0, 1.5), b (−1.5, −0.5, 1.5, 0.5);
	// Σab = 2.25 + 0.75 = 3, Σa² = 4.5, Σb² = 5 → 3/√22.5.
	got := Spearman([]float64{1, 2, 2, 3}, []float64{10, 20, 40, 30})
	if want := 3 / math.Sqrt(22.5); !near(got, want, 1e-12) {
		t.Fatalf("Spearman = %v, want %v", got, want)
	}
	if got := Spearman([]float64{1, 2, 3}, []float64{3, 2, 1}); got != -1 {
		t.Fatalf("reversed = %v", got)
	}
}

func TestDeciles(t *testing.T) {
	var pred, act []float64
	for i := range 20 {
		pred = append(pred, float64(19-i)) // reverse order in, sorted out
		act = append(act, float64(2*(19-i)))
	}
	d := Deciles(pred, act)
	if len(d) != 10 || d[0].Customers != 2 || d[0].Predicted != 0.5 || d[0].Actual != 1 || d[9].Predicted != 18.5 || d[9].Actual != 37 {
		t.Fatalf("deciles = %+v", d)
	}
}

// fixed is a model whose predictions are read off the customer: PNoPurchase
// is 1/(1+x) and ExpectedPurchases x × t / 10.
type fixed struct{}

func (fixed) Name() string { return "fixed" }
func (fixed) PNoPurchase(c clv.Customer, t float64) (float64, error) {
	return 1 / (1 + float64(c.X)), nil
}
func (fixed) ExpectedPurchases(c clv.Customer, t float64) (float64, error) {
	return float64(c.X) * t / 10, nil
}

type flat struct{}

func (flat) ExpectedSpend(x int, mean float64) (float64, error) { return 10, nil }

func TestRun(t *testing.T) {
	cs := []Customer{
		{ID: "a", Cal: clv.Customer{X: 0, T: 10}, HoldoutPurchases: 0},
		{ID: "b", Cal: clv.Customer{X: 1, TX: 5, T: 10}, HoldoutPurchases: 0, HoldoutSpend: 0},
		{ID: "c", Cal: clv.Customer{X: 3, TX: 9, T: 10}, HoldoutPurchases: 2, HoldoutSpend: 30},
		{ID: "d", Cal: clv.Customer{X: 9, TX: 9, T: 10}, HoldoutPurchases: 8, HoldoutSpend: 100},
	}
	r, err := Run(cs, fixed{}, flat{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Churn: p = 1, 0.5, 0.25, 0.1 for a, b (no purchase) and c, d: AUC 1.
	// Purchases: expected 0, 1, 3, 9 = 13 against 10; MAE (0+1+1+1)/4.
	if r.Model != "fixed" || r.Customers != 4 || r.Churn.BaseRate != 0.5 || r.Churn.AUC != 1 || r.Churn.BaseBrier != 0.25 ||
		!near(r.Churn.Brier, (0+0.25+0.0625+0.01)/4, 1e-12) || r.Purchases.Predicted != 13 || r.Purchases.Actual != 10 ||
		r.Purchases.MAE != 0.75 || r.Value.Predicted != 130 || r.Value.Actual != 130 || !near(r.Value.Spearman, 0.9486832980505138, 1e-12) {
		t.Fatalf("report = %+v", r)
	}
	if g := r.Purchases.ByFrequency; len(g) != 8 || g[0].Customers != 1 || g[3].Actual != 2 || !g[7].OrMore || g[7].Customers != 1 || g[7].Predicted != 9 {
		t.Fatalf("by frequency = %+v", g)
	}
	if _, err := Run(nil, fixed{}, nil, 10); !errors.Is(err, ErrNoCustomers) {
		t.Fatalf("no customers: %v", err)
	}
}

// constant predicts the same churn probability for everyone.
type constant float64

func (c constant) Name() string { return "constant" }
func (c constant) PNoPurchase(clv.Customer, float64) (float64, error) {
	return float64(c), nil
}
func (c constant) ExpectedPurchases(clv.Customer, float64) (float64, error) { return 1, nil }

func TestSelectByBrier(t *testing.T) {
	inner := []Customer{
		{ID: "a", Cal: clv.Customer{X: 0, T: 5}},
		{ID: "b", Cal: clv.Customer{X: 5, TX: 5, T: 5}, HoldoutPurchases: 3},
	}
	fit := func(name string) (Model, error) {
		switch name {
		case "fixed":
			return fixed{}, nil // p = 1 and 1/6: Brier (0 + 1/36)/2
		case "half":
			return constant(0.5), nil // Brier 0.25
		}
		return nil, errors.New("does not converge")
	}
	sel, err := Select(inner, []string{"half", "broken", "fixed"}, fit, 5)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Model != "fixed" || len(sel.Candidates) != 3 || sel.Candidates[0].Brier != 0.25 || sel.Candidates[1].Err == "" ||
		!near(sel.Candidates[2].Brier, 1.0/72, 1e-12) || sel.Rule != SelectionRule {
		t.Fatalf("selection = %+v", sel)
	}
	if _, err := Select(inner, []string{"broken"}, fit, 5); err == nil {
		t.Fatal("a selection where every model failed succeeded")
	}
}
