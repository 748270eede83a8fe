package clv

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// churnOf builds the features of a customer from their purchase days
// (ago, oldest first, and spend), as of an end T = days[0] after the first.
func churnOf(ago, spend []float64) ChurnFeatures {
	f := ChurnFeatures{Customer: Customer{X: len(ago) - 1, T: ago[0], TX: ago[0] - ago[len(ago)-1]}}
	for i := range ago {
		f.Days = append(f.Days, PurchaseDay{Ago: ago[i], Spend: spend[i]})
	}
	return f
}

func TestBoostFeatures(t *testing.T) {
	prior := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	const h = 9
	for _, tt := range []struct {
		name       string
		ago, spend []float64
		want       []float64 // all but the prior's two
	}{
		{
			name: "four days", ago: []float64{20, 8, 5, 1}, spend: []float64{10, 20, 30, 40},
			// gaps 12, 3, 4: mean 19/3, sd √((17/3)²+(10/3)²+(7/3)²)/√3
			want: []float64{1, 20, 4, 1, 2, 3, 3,
				19.0 / 3, math.Sqrt((289.0/9+100.0/9+49.0/9)/3) / (19.0 / 3), 1 / (19.0 / 3), 4,
				4, // periods of h/3: 20, 8, 5 and 1 ago fall in the 6th, 2nd, 1st and 0th
				25, 100, 40, 90, 4 / 23.0},
		},
		{
			name: "one day", ago: []float64{7}, spend: []float64{12.5},
			want: []float64{7, 7, 1, 0, 0, 1, 1, -1, -1, -1, -1, 1, 12.5, 12.5, 12.5, 12.5, 1 / 10.0},
		},
	} {
		f := churnOf(tt.ago, tt.spend)
		if err := f.validateDays(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := boostFeatures(f, h, prior)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(got) != boostFeatureCount {
			t.Fatalf("%s: %d features, want %d", tt.name, len(got), boostFeatureCount)
		}
		for i, w := range tt.want {
			if math.Abs(got[i]-w) > 1e-12 {
				t.Errorf("%s: feature %d = %v, want %v", tt.name, i, got[i], w)
			}
		}
		pNone, _ := prior.PNoPurchase(f.Customer, h)
		expected, _ := prior.ExpectedPurchases(f.Customer, h)
		if got[17] != pNone || got[18] != expected {
			t.Errorf("%s: prior features %v, want %v and %v", tt.name, got[17:], pNone, expected)
		}
	}
}

func TestChurnBoostPredicts(t *testing.T) {
	prior := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	f := churnOf([]float64{20, 8, 5, 1}, []float64{10, 20, 30, 40})
	trees := Boosted{Base: 0.3, Rate: 1, Trees: []Tree{{
		{Feature: 0, Threshold: 2, Left: 1, Right: 2}, {Feature: -1, Value: -1}, {Feature: -1, Value: 1}}}}
	pNone, _ := prior.PNoPurchase(f.Customer, 9)
	logOdds := math.Log(pNone / (1 - pNone))
	for _, tt := range []struct {
		weight float64
		want   float64
	}{
		{1, pNone},                             // the prior alone
		{0, sigmoid(0.3 - 1)},                  // the trees alone: recency 1 ≤ 2, left
		{0.5, sigmoid(0.5*logOdds + 0.5*-0.7)}, // the blend
	} {
		m := ChurnBoost{Horizon: 9, PriorWeight: tt.weight, Trees: trees, Prior: prior}
		got, err := m.PNoPurchase(f, 9)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("weight %v: %v, want %v", tt.weight, got, tt.want)
		}
	}
	m := ChurnBoost{Horizon: 9, PriorWeight: 0.5, Trees: trees, Prior: prior}
	if _, err := m.PNoPurchase(f, 10); !errors.Is(err, ErrHorizon) {
		t.Errorf("another horizon: %v", err)
	}
	wrong := f
	wrong.Days = f.Days[1:] // three days for a customer with four
	if _, err := m.PNoPurchase(wrong, 9); !errors.Is(err, ErrInvalid) {
		t.Errorf("days that do not match the history: %v", err)
	}
	m.Prior = nil
	if _, err := m.PNoPurchase(f, 9); !errors.Is(err, ErrInvalid) {
		t.Errorf("no prior: %v", err)
	}
}

// spendWindow simulates one training window in which the prior is
// blind to what decides churn: low spenders never come back, the others
// buy as Poisson processes whose rates the history shows.
func spendWindow(rng *rand.Rand, n int, h float64) ([]ChurnFeatures, []bool) {
	var cs []ChurnFeatures
	var none []bool
	for range n {
		age := 5 + 35*rng.Float64()
		rate := []float64{0.05, 0.3}[rng.IntN(2)]
		spend := []float64{5, 50}[rng.IntN(2)]
		ago, spends := []float64{age}, []float64{spend}
		for t := age - rng.ExpFloat64()/rate; t > 0; t -= rng.ExpFloat64() / rate {
			ago, spends = append(ago, t), append(spends, spend)
		}
		cs = append(cs, churnOf(ago, spends))
		none = append(none, spend < 10 || rng.Float64() < math.Exp(-rate*h))
	}
	return cs, none
}

func TestFitChurnBoostLearnsWhatThePriorMisses(t *testing.T) {
	prior := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	const h = 10
	rng := rand.New(rand.NewPCG(7, 8))
	var ws []ChurnWindow
	for range 3 {
		cs, none := spendWindow(rng, 600, h)
		ws = append(ws, ChurnWindow{Customers: cs, None: none, Prior: prior})
	}
	m, err := FitChurnBoost(ws, h, DefaultBoostConfig)
	if err != nil {
		t.Fatal(err)
	}
	if m.PriorWeight != ChurnBoostPriorWeight || m.Horizon != h || m.Prior != nil {
		t.Fatalf("model %+v", m)
	}
	m.Prior = prior
	cs, none := spendWindow(rng, 2000, h)
	var brier, priorBrier float64
	for i, c := range cs {
		p, err := m.PNoPurchase(c, h)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := prior.PNoPurchase(c.Customer, h)
		y := 0.0
		if none[i] {
			y = 1
		}
		brier += (p - y) * (p - y) / float64(len(cs))
		priorBrier += (q - y) * (q - y) / float64(len(cs))
	}
	t.Logf("Brier %.4f, prior's %.4f", brier, priorBrier)
	// Half the customers are certain churners the prior cannot see; even
	// at half weight the trees must take a large share of its error away.
	if !(brier < 0.6*priorBrier) {
		t.Errorf("Brier %.4f, prior's %.4f", brier, priorBrier)
	}
}

func TestFitChurnBoostErrors(t *testing.T) {
	prior := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	good := churnOf([]float64{20, 8}, []float64{1, 2})
	bad := good
	bad.Days = []PurchaseDay{{Ago: 8, Spend: 2}, {Ago: 20, Spend: 1}} // newest first
	for _, tt := range []struct {
		name string
		ws   []ChurnWindow
		want error
	}{
		{"no windows", nil, ErrNoData},
		{"no prior", []ChurnWindow{{Customers: []ChurnFeatures{good}, None: []bool{true}}}, ErrInvalid},
		{"outcomes mismatch", []ChurnWindow{{Customers: []ChurnFeatures{good}, Prior: prior}}, ErrInvalid},
		{"days out of order", []ChurnWindow{{Customers: []ChurnFeatures{bad}, None: []bool{true}, Prior: prior}}, ErrInvalid},
	} {
		if _, err := FitChurnBoost(tt.ws, 9, DefaultBoostConfig); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
