package clv

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
)

var publishedPareto = ParetoNBD{R: 0.553, Alpha: 10.578, S: 0.606, Beta: 11.669}

// TestPowerIntegralMatchesHypergeo checks the term-by-term series against
// the published form of Fader & Hardie (2005, equation 16), the difference
// of two 2F1(r+s+x, ·; r+s+x+1; ·) terms evaluated with gonum's Hypergeo, on
// both branches (α >= β and α < β), and checks the quadrature fallback
// against the series wherever both work.
func TestPowerIntegralMatchesHypergeo(t *testing.T) {
	type shifts struct{ a, b float64 }
	for _, sh := range []shifts{{10.578, 11.669}, {11.669, 10.578}, {4, 4}, {30, 2}, {0.5, 40}} {
		for _, x := range []float64{0, 1, 3, 12} {
			for _, span := range [][2]float64{{0, 38.86}, {30.43, 38.86}, {38.8, 38.86}, {2, 200}} {
				r, s := 0.553, 0.606
				ea, eb := r+x, s+1
				lo, hi := span[0], span[1]
				series, ok := logPowerSeries(sh.a, ea, sh.b, eb, lo, hi)
				if !ok {
					t.Fatalf("series did not converge for %+v x=%v %v", sh, x, span)
				}
				quadrature := logPowerQuadrature(sh.a, ea, sh.b, eb, lo, hi)
				if math.Abs(series-quadrature) > 1e-12*math.Max(1, math.Abs(series)) {
					t.Errorf("%+v x=%v %v: series %.15g, quadrature %.15g", sh, x, span, series, quadrature)
				}
				// Fader & Hardie's A0 (times r+s+x): branch on the larger shift.
				n := r + s + x
				c, d, second := sh.a, sh.a-sh.b, s+1
				if sh.a < sh.b {
					c, d, second = sh.b, sh.b-sh.a, r+x
				}
				f := func(u float64) float64 {
					return math.Pow(c+u, -n) * mathext.Hypergeo(n, second, n+1, d/(c+u))
				}
				want := math.Log((f(lo) - f(hi)) / n)
				if math.Abs(series-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%+v x=%v %v: series %.12g, published 2F1 form %.12g", sh, x, span, series, want)
				}
			}
		}
	}
}

// TestPowerIntegralNearOne covers the range where the series needs too
// many terms and the quadrature takes over: the smaller shift far below the
// larger, seen from tx = 0.
func TestPowerIntegralNearOne(t *testing.T) {
	for _, tt := range []struct{ a, ea, b, eb float64 }{
		{1e-6, 0.5, 20, 1.6}, {20, 0.5, 1e-6, 1.6}, {1e-9, 1000.5, 50, 1.1}, {3, 1e6, 0.5, 2},
	} {
		got := logPowerIntegral(tt.a, tt.ea, tt.b, tt.eb, 0, 39)
		// Forcing the quadrature on a piece where the series does work
		// checks it in the same corner of the parameter space.
		q := logPowerQuadrature(tt.a, tt.ea, tt.b, tt.eb, 5, 39)
		s, ok := logPowerSeries(tt.a, tt.ea, tt.b, tt.eb, 5, 39)
		if !finite(got) || !ok || math.Abs(q-s) > 1e-11*math.Max(1, math.Abs(s)) {
			t.Errorf("%+v: integral %v; on [5,39] quadrature %.15g, series %.15g (ok %v)", tt, got, q, s, ok)
		}
	}
}

func TestFitParetoNBDCDNOWPublished(t *testing.T) {
	for _, src := range []struct {
		name  string
		build func(testing.TB) (*Summary, *SpendSummary)
	}{{"summary file", cdnowFromFile}, {"from CDNOW_sample.txt", cdnowFromSample}} {
		t.Run(src.name, func(t *testing.T) {
			s, _ := src.build(t)
			fit, err := FitParetoNBD(s, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := fit.Model
			for _, p := range []struct {
				name           string
				got, published float64
			}{
				{"r", m.R, 0.553}, {"alpha", m.Alpha, 10.578}, {"s", m.S, 0.606}, {"beta", m.Beta, 11.669},
				{"log-likelihood", fit.LogLikelihood, -9595.0},
			} {
				if !sig3(p.got, p.published) {
					t.Errorf("Pareto/NBD %s = %.5g, published %v", p.name, p.got, p.published)
				}
			}
			if math.Abs(fit.LogLikelihood - -9595.0) > 0.1 {
				t.Errorf("log-likelihood %.3f, published -9595.0", fit.LogLikelihood)
			}
			if ll := m.LogLikelihood(s); math.Abs(ll-fit.LogLikelihood) > 1e-6 {
				t.Errorf("LogLikelihood at the fit %.6f, fit reports %.6f", ll, fit.LogLikelihood)
			}
			t.Logf("Pareto/NBD %+v LL %.4f after %d iterations", m, fit.LogLikelihood, fit.Iterations)
		})
	}
}

// TestParetoPredictionsByQuadrature checks the closed forms against direct
// numerical integration over the window of the posterior quantities they
// are built from, given alive at T with λ ~ Gamma(r+x, α+T) and
// μ ~ Gamma(s, β+T):
//
//	E[Y(t)]   = P(alive) · ∫_0^t E[λ] · E[e^-μu] du
//	P(none)   = P(dead) + P(alive) · (E[e^-λt]E[e^-μt] + ∫_0^t E[μe^-μu] E[e^-λu] du)
func TestParetoPredictionsByQuadrature(t *testing.T) {
	models := []ParetoNBD{publishedPareto, {R: 2, Alpha: 3, S: 1, Beta: 20}, {R: 0.3, Alpha: 40, S: 2.5, Beta: 5}}
	customers := []Customer{{X: 0, T: 38.86}, {X: 2, TX: 30.43, T: 38.86}, {X: 7, TX: 5, T: 52}, {X: 26, TX: 30.86, T: 31}}
	for _, m := range models {
		for _, c := range customers {
			for _, h := range []float64{1, 90.0 / 7, 39, 520} {
				x := float64(c.X)
				aT, bT := m.Alpha+c.T, m.Beta+c.T
				eLambda := (m.R + x) / aT
				laplaceL := func(u float64) float64 { return math.Pow(aT/(aT+u), m.R+x) }
				laplaceM := func(u float64) float64 { return math.Pow(bT/(bT+u), m.S) }
				densityM := func(u float64) float64 { return m.S / bT * math.Pow(bT/(bT+u), m.S+1) } // E[μe^-μu]
				integrate := func(f func(float64) float64) float64 { return quad.Fixed(f, 0, h, 400, nil, 0) }

				pa, err := m.PAlive(c)
				if err != nil {
					t.Fatal(err)
				}
				wantE := pa * integrate(func(u float64) float64 { return eLambda * laplaceM(u) })
				wantNone := 1 - pa + pa*(laplaceL(h)*laplaceM(h)+integrate(func(u float64) float64 { return densityM(u) * laplaceL(u) }))

				gotE, err := m.ExpectedPurchases(c, h)
				if err != nil {
					t.Fatal(err)
				}
				gotNone, err := m.PNoPurchase(c, h)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(gotE-wantE) > 1e-9*math.Max(1, wantE) {
					t.Errorf("%+v %+v t=%v: E %.12g, quadrature %.12g", m, c, h, gotE, wantE)
				}
				if math.Abs(gotNone-wantNone) > 1e-9 {
					t.Errorf("%+v %+v t=%v: P(no purchase) %.12g, quadrature %.12g", m, c, h, gotNone, wantNone)
				}
			}
		}
	}
}

// TestPNoPurchaseLimits checks t = 0, monotonicity in t and the limit as t
// grows without bound, for every model. For BG/NBD and MBG/NBD the limit is
// P(dead): a live customer buys eventually and only then can drop out. For
// Pareto/NBD a live customer may die before buying again; with α = β the
// posterior rates share their scale, μ/(λ+μ) given alive is
// Beta(s, r+x), and the limit is P(dead) + P(alive)·s/(r+x+s).
func TestPNoPurchaseLimits(t *testing.T) {
	equalScales := ParetoNBD{R: 0.8, Alpha: 7, S: 1.3, Beta: 7}
	models := []PurchaseModel{
		published,
		MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614},
		publishedPareto,
		equalScales,
	}
	customers := []Customer{{X: 0, T: 38.86}, {X: 2, TX: 30.43, T: 38.86}, {X: 5, TX: 3, T: 39}, {X: 26, TX: 30.86, T: 31}}
	for _, m := range models {
		for _, c := range customers {
			p0, err := m.PNoPurchase(c, 0)
			if err != nil || p0 != 1 {
				t.Errorf("%s %+v: P(no purchase in 0) = %v, %v", m.Name(), c, p0, err)
			}
			prev := 1.0
			for h := 0.25; h <= 1e4; h *= 2 {
				p, err := m.PNoPurchase(c, h)
				if err != nil {
					t.Fatal(err)
				}
				// Strictly falling while the horizon is short; later it may
				// have reached its limit to the last bit.
				if p > prev || (h <= 52 && !(p < prev)) || p <= 0 {
					t.Errorf("%s %+v: P(no purchase in %v) = %v, not below %v at half the horizon", m.Name(), c, h, p, prev)
				}
				prev = p
			}
			pa, err := m.PAlive(c)
			if err != nil {
				t.Fatal(err)
			}
			limit := 1 - pa
			if p, ok := m.(ParetoNBD); ok {
				if p != equalScales {
					continue // no closed form to compare with
				}
				limit += pa * p.S / (p.R + float64(c.X) + p.S)
			}
			got, err := m.PNoPurchase(c, 1e300)
			if err != nil || math.Abs(got-limit) > 1e-9 {
				t.Errorf("%s %+v: P(no purchase ever) = %.12g, %v; want %.12g", m.Name(), c, got, err, limit)
			}
		}
	}
	// BG/NBD cannot lose a customer who never bought again; MBG/NBD can.
	none := Customer{X: 0, T: 38.86}
	if p, _ := published.PNoPurchase(none, 1e300); p != 0 {
		t.Errorf("BG/NBD, x = 0: P(no purchase ever) = %v, want 0", p)
	}
	if p, _ := (MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}).PNoPurchase(none, 1e300); !(p > 0.3) {
		t.Errorf("MBG/NBD, x = 0: P(no purchase ever) = %v, want P(dead) well above 0", p)
	}
}

// TestParetoExtremeInputsStayFinite guards the promise of no NaN or Inf
// for valid inputs, including those that push the series onto its
// quadrature fallback.
func TestParetoExtremeInputsStayFinite(t *testing.T) {
	models := []ParetoNBD{
		publishedPareto,
		{R: 1e-6, Alpha: 1e-6, S: 1e-6, Beta: 1e-6},
		{R: 1e4, Alpha: 1e4, S: 1e4, Beta: 1e4},
		{R: 0.243, Alpha: 1e-8, S: 0.6, Beta: 11},
		{R: 50, Alpha: 300, S: 0.05, Beta: 1e-7},
	}
	customers := []Customer{
		{X: 0, TX: 0, T: 38.86},
		{X: 0, TX: 0, T: 0},
		{X: 1, TX: 1e-9, T: 1e-9},
		{X: 5, TX: 39, T: 39},
		{X: 1_000_000, TX: 38, T: 39},
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
				q, err := m.PNoPurchase(c, h)
				if err != nil || !(q >= 0 && q <= 1) {
					t.Errorf("%+v %+v horizon %v: P(no purchase) %v, %v", m, c, h, q, err)
				}
			}
			var s Summary
			if err := s.Add(c); err != nil {
				t.Fatal(err)
			}
			if ll := m.LogLikelihood(&s); !finite(ll) {
				t.Errorf("%+v %+v: LL %v", m, c, ll)
			}
		}
	}
}

func TestParetoValidation(t *testing.T) {
	c := Customer{X: 1, TX: 1, T: 2}
	if _, err := publishedPareto.ExpectedPurchases(c, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative horizon: %v", err)
	}
	if _, err := publishedPareto.PNoPurchase(c, math.Inf(1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("infinite horizon: %v", err)
	}
	if _, err := (ParetoNBD{R: 1, Alpha: 1, S: 0, Beta: 1}).PAlive(c); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero s: %v", err)
	}
	if _, err := publishedPareto.PAlive(Customer{X: 1, TX: 3, T: 2}); !errors.Is(err, ErrInvalid) {
		t.Errorf("t_x after T: %v", err)
	}
	if _, err := FitParetoNBD(&Summary{}, FitOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("empty fit: %v", err)
	}
	var s Summary
	_ = s.Add(c)
	if _, err := FitParetoNBD(&s, FitOptions{Start: []float64{1, 1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("two starting values: %v", err)
	}
}
