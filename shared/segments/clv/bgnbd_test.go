package clv

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

var published = BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}

// TestGrowthMatchesHypergeo checks the Euler-transformed series against a
// direct evaluation of the untransformed formula with gonum's 2F1, where
// the latter is well conditioned.
func TestGrowthMatchesHypergeo(t *testing.T) {
	models := []BGNBD{published, {R: 1.5, Alpha: 2, A: 3, B: 0.7}, {R: 0.1, Alpha: 30, A: 0.2, B: 10}}
	for _, m := range models {
		for _, x := range []float64{0, 1, 2, 7, 30} {
			for _, T := range []float64{0, 0.5, 10, 39} {
				for _, t0 := range []float64{0.1, 4, 39, 52, 200} {
					got, err := growth(m, x, m.Alpha+T, t0)
					if err != nil {
						t.Fatal(err)
					}
					z := t0 / (m.Alpha + T + t0)
					f := mathext.Hypergeo(m.R+x, m.B+x, m.A+m.B+x-1, z)
					want := (1 - math.Pow((m.Alpha+T)/(m.Alpha+T+t0), m.R+x)*f) / (m.A - 1)
					if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Errorf("%+v x=%v T=%v t=%v: series %.12g, 2F1 %.12g", m, x, T, t0, got, want)
					}
				}
			}
		}
	}
}

// TestQuadratureMatchesSeries checks the last-resort integral against the
// series where both work.
func TestQuadratureMatchesSeries(t *testing.T) {
	models := []BGNBD{published, {R: 1.5, Alpha: 2, A: 3, B: 0.7}, {R: 0.1, Alpha: 30, A: 0.2, B: 10}}
	for _, m := range models {
		for _, x := range []float64{0, 1, 7, 300} {
			for _, t0 := range []float64{0.1, 39, 200} {
				T := 20.0
				g, err := growth(m, x, m.Alpha+T, t0)
				if err != nil {
					t.Fatal(err)
				}
				want := g * (m.A + m.B + x - 1)
				got, ok := expectedByQuadrature(m, x, m.Alpha+T, t0)
				if !ok || math.Abs(got-want) > 1e-7*math.Max(1, want) {
					t.Errorf("%+v x=%v t=%v: quadrature %.10g (ok %v), series %.10g", m, x, t0, got, ok, want)
				}
			}
		}
	}
}

// TestExpectedPurchasesAtAEqualsOne checks that a = 1, where the textbook
// formula divides 0 by 0, lies on the curve through its neighbours.
func TestExpectedPurchasesAtAEqualsOne(t *testing.T) {
	c := Customer{X: 3, TX: 20, T: 30}
	at := func(a float64) float64 {
		m := BGNBD{R: 0.5, Alpha: 5, A: a, B: 2}
		v, err := m.ExpectedPurchases(c, 52)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	mid, lo, hi := at(1), at(1-1e-6), at(1+1e-6)
	if math.Abs(mid-(lo+hi)/2) > 1e-8 || !finite(mid) {
		t.Errorf("E at a=1: %v; neighbours %v %v", mid, lo, hi)
	}
}

// TestExtremeInputsStayFinite guards the promise of no NaN or Inf for
// valid inputs.
func TestExtremeInputsStayFinite(t *testing.T) {
	models := []BGNBD{
		published,
		{R: 1e-6, Alpha: 1e-6, A: 1e-6, B: 1e-6},
		{R: 1e4, Alpha: 1e4, A: 1e4, B: 1e4},
		{R: 0.243, Alpha: 1e-8, A: 0.793, B: 2.426},
		{R: 50, Alpha: 0.01, A: 0.05, B: 100},
	}
	customers := []Customer{
		{X: 0, TX: 0, T: 38.86},
		{X: 0, TX: 0, T: 0},
		{X: 0, TX: 0, T: 1e-9},
		{X: 1, TX: 1e-9, T: 1e-9},
		{X: 5, TX: 39, T: 39},
		{X: 1_000_000, TX: 38, T: 39},
		{X: 1_000_000, TX: 0.001, T: 1e6},
		{X: 50, TX: 0, T: 1e5},
	}
	for _, m := range models {
		for _, c := range customers {
			p, err := m.PAlive(c)
			if err != nil || !(p >= 0 && p <= 1) {
				t.Errorf("%+v %+v: P(alive) %v, %v", m, c, p, err)
			}
			for _, h := range []float64{0, 1e-9, 1, 52, 1e4} {
				e, err := m.ExpectedPurchases(c, h)
				if err != nil || !finite(e) || e < 0 {
					t.Errorf("%+v %+v horizon %v: E %v, %v", m, c, h, e, err)
				}
			}
			var s Summary
			if err := s.Add(c); err != nil {
				t.Fatal(err)
			}
			// A log density, not a log probability: it may be positive.
			if ll := m.LogLikelihood(&s); !finite(ll) {
				t.Errorf("%+v %+v: LL %v", m, c, ll)
			}
		}
	}
}

func TestExpectedPurchasesGrowsWithHorizon(t *testing.T) {
	c := Customer{X: 4, TX: 25, T: 39}
	prev := 0.0
	for h := 1.0; h <= 520; h *= 2 {
		e, err := published.ExpectedPurchases(c, h)
		if err != nil {
			t.Fatal(err)
		}
		if e <= prev {
			t.Errorf("E(%v) = %v not above E at half the horizon %v", h, e, prev)
		}
		prev = e
	}
}

func TestCustomerValidation(t *testing.T) {
	tests := []struct {
		c  Customer
		ok bool
	}{
		{Customer{X: 0, TX: 0, T: 10}, true},
		{Customer{X: 2, TX: 10, T: 10}, true},
		{Customer{X: -1, TX: 0, T: 10}, false},
		{Customer{X: 2, TX: 11, T: 10}, false},
		{Customer{X: 0, TX: 3, T: 10}, false},
		{Customer{X: 1, TX: 1, T: math.NaN()}, false},
		{Customer{X: 1, TX: 1, T: math.Inf(1)}, false},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.c, err, tt.ok)
		}
	}
	if _, err := published.ExpectedPurchases(Customer{X: 1, TX: 1, T: 2}, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative horizon: %v", err)
	}
	if _, err := (BGNBD{R: 0, Alpha: 1, A: 1, B: 1}).PAlive(Customer{T: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero r: %v", err)
	}
	if _, err := FitBGNBD(&Summary{}, FitOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("empty fit: %v", err)
	}
}

// TestGradients compares the analytic gradients that drive BFGS with
// central differences.
func TestGradients(t *testing.T) {
	s, sp := cdnowFromFile(t)
	groups, rows := s.groups(), sp.rows()
	check := func(name string, f func(lp, grad []float64) float64, at []float64) {
		grad := make([]float64, len(at))
		f(at, grad)
		for i := range at {
			const h = 1e-6
			up, down := append([]float64(nil), at...), append([]float64(nil), at...)
			up[i] += h
			down[i] -= h
			num := (f(up, nil) - f(down, nil)) / (2 * h)
			if math.Abs(num-grad[i]) > 1e-4*math.Max(1, math.Abs(num)) {
				t.Errorf("%s d/dlogθ[%d]: analytic %v, numeric %v", name, i, grad[i], num)
			}
		}
	}
	check("BG/NBD", func(lp, grad []float64) float64 {
		return bgnbdLL(BGNBD{math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])}, groups, grad)
	}, []float64{math.Log(0.5), math.Log(3), math.Log(1.2), math.Log(2)})
	check("Gamma-Gamma", func(lp, grad []float64) float64 {
		return ggLL(GammaGamma{math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])}, rows, grad)
	}, []float64{math.Log(3), math.Log(2), math.Log(10)})
}
