package clv

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
)

// mbgCDNOW is the MBG/NBD fit to the CDNOW summary that the lifetimes
// library pins in its tests (tests/test_estimation.py,
// TestModifiedBetaGammaFitter.test_params_out_is_close_to_BTYDplus, to three
// decimals), itself checked there against the BTYDplus R package. No paper
// publishes MBG/NBD parameters for CDNOW.
var mbgCDNOW = MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}

func TestFitMBGNBDCDNOW(t *testing.T) {
	s, _ := cdnowFromFile(t)
	fit, err := FitMBGNBD(s, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := fit.Model
	t.Logf("MBG/NBD %+v LL %.4f after %d iterations", m, fit.LogLikelihood, fit.Iterations)
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, mbgCDNOW.R}, {"alpha", m.Alpha, mbgCDNOW.Alpha}, {"a", m.A, mbgCDNOW.A}, {"b", m.B, mbgCDNOW.B}} {
		// numpy's assert_array_almost_equal(decimal=3), as lifetimes uses.
		if math.Abs(p.got-p.want) >= 1.5e-3 {
			t.Errorf("MBG/NBD %s = %.5f, lifetimes/BTYDplus %v", p.name, p.got, p.want)
		}
	}
	// Independent of any reference: the optimum is a maximum. Moving any
	// parameter by 1% either way lowers the log-likelihood, and the
	// analytic gradient there is zero to optimiser precision.
	base := m.LogLikelihood(s)
	if math.Abs(base-fit.LogLikelihood) > 1e-6 {
		t.Errorf("LogLikelihood at the fit %.6f, fit reports %.6f", base, fit.LogLikelihood)
	}
	for i := range 4 {
		for _, f := range []float64{0.99, 1.01} {
			p := []float64{m.R, m.Alpha, m.A, m.B}
			p[i] *= f
			if ll := (MBGNBD{p[0], p[1], p[2], p[3]}).LogLikelihood(s); ll >= base {
				t.Errorf("parameter %d × %v: LL %.6f not below the optimum %.6f", i, f, ll, base)
			}
		}
	}
	grad := make([]float64, 4)
	mbgnbdLL(m, s.groups(), grad)
	for i, g := range grad {
		if math.Abs(g/s.Customers()) > 1e-8 {
			t.Errorf("d mean LL / d log θ[%d] = %v at the optimum", i, g/s.Customers())
		}
	}
	// MBG/NBD nests a chance to leave at once that BG/NBD lacks, and here
	// it fits slightly better.
	bg, err := FitBGNBD(s, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !(fit.LogLikelihood > bg.LogLikelihood) {
		t.Errorf("MBG/NBD LL %.4f not above BG/NBD %.4f", fit.LogLikelihood, bg.LogLikelihood)
	}
}

func TestMBGNBDGradient(t *testing.T) {
	s, _ := cdnowFromFile(t)
	groups := s.groups()
	f := func(lp, grad []float64) float64 {
		return mbgnbdLL(MBGNBD{math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])}, groups, grad)
	}
	for _, at := range [][]float64{
		{math.Log(0.5), math.Log(3), math.Log(1.2), math.Log(2)},
		{math.Log(2), math.Log(0.3), math.Log(0.1), math.Log(9)},
	} {
		grad := make([]float64, 4)
		f(at, grad)
		for i := range at {
			const h = 1e-6
			up, down := append([]float64(nil), at...), append([]float64(nil), at...)
			up[i] += h
			down[i] -= h
			num := (f(up, nil) - f(down, nil)) / (2 * h)
			if math.Abs(num-grad[i]) > 1e-4*math.Max(1, math.Abs(num)) {
				t.Errorf("MBG/NBD at %v d/dlogθ[%d]: analytic %v, numeric %v", at, i, grad[i], num)
			}
		}
	}
}

// TestMBGNBDExpectedPurchasesByQuadrature checks the hypergeometric
// conditional expectation against direct integration over the dropout
// probability given alive, p ~ Beta(a, b+x+1):
//
//	P(alive) · ∫ (1 - ((α+T)/(α+T+pt))^(r+x)) / p · Beta(p; a, b+x+1) dp.
//
// The substitution p = u^k/(u^k + (1-u)^k) turns the Beta density's power
// behaviour at either end into u^(ka-1) and (1-u)^(k(b+x+1)-1), smooth
// enough for Gauss-Legendre whatever a and b are.
func TestMBGNBDExpectedPurchasesByQuadrature(t *testing.T) {
	models := []MBGNBD{mbgCDNOW, {R: 2, Alpha: 10, A: 3, B: 0.7}, {R: 0.2, Alpha: 1, A: 0.4, B: 6}}
	customers := []Customer{{X: 0, T: 38.86}, {X: 2, TX: 30.43, T: 38.86}, {X: 9, TX: 20, T: 52}}
	const k = 6
	for _, m := range models {
		for _, c := range customers {
			for _, h := range []float64{90.0 / 7, 39, 200} {
				x := float64(c.X)
				aT := m.Alpha + c.T
				bx := m.B + x + 1
				lb := lbeta(m.A, bx)
				integrand := func(u float64) float64 {
					lu, l1u := k*math.Log(u), k*math.Log1p(-u)
					norm := logSumExp(lu, l1u)
					logP, log1mP := lu-norm, l1u-norm
					p := math.Exp(logP)
					// (1 - (1+pt/(α+T))^-(r+x))/p, with its limit at p = 0.
					perP := (m.R + x) * h / aT
					if p > 0 {
						perP = -math.Expm1(-(m.R+x)*math.Log1p(p*h/aT)) / p
					}
					// Beta density times dp/du = k·p(1-p)/(u(1-u)).
					return perP * math.Exp(m.A*logP+bx*log1mP-lb) * k / (u * (1 - u))
				}
				pa, err := m.PAlive(c)
				if err != nil {
					t.Fatal(err)
				}
				want := pa * quad.Fixed(integrand, 0, 1, 1000, nil, 0)
				got, err := m.ExpectedPurchases(c, h)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got-want) > 1e-9*math.Max(1, want) {
					t.Errorf("%+v %+v t=%v: E %.12g, quadrature %.12g", m, c, h, got, want)
				}
			}
		}
	}
}

// TestMBGNBDDiffersFromBGNBDAtZero pins the one modelling difference: a
// customer with no repeat purchase is surely alive under BG/NBD, and under
// MBG/NBD alive with probability 1/(1 + a/b · ((α+T)/α)^r).
func TestMBGNBDDiffersFromBGNBDAtZero(t *testing.T) {
	c := Customer{X: 0, T: 38.86}
	m := mbgCDNOW
	got, err := m.PAlive(c)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 / (1 + m.A/m.B*math.Pow((m.Alpha+c.T)/m.Alpha, m.R))
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("MBG/NBD P(alive | x=0) = %v, want %v", got, want)
	}
	if bg, _ := published.PAlive(c); bg != 1 {
		t.Errorf("BG/NBD P(alive | x=0) = %v, want 1", bg)
	}
}

func TestMBGNBDExtremeInputsStayFinite(t *testing.T) {
	models := []MBGNBD{
		mbgCDNOW,
		{R: 1e-6, Alpha: 1e-6, A: 1e-6, B: 1e-6},
		{R: 1e4, Alpha: 1e4, A: 1e4, B: 1e4},
		{R: 50, Alpha: 0.01, A: 0.05, B: 100},
	}
	customers := []Customer{
		{X: 0, TX: 0, T: 38.86},
		{X: 0, TX: 0, T: 0},
		{X: 1, TX: 1e-9, T: 1e-9},
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

func TestMBGNBDValidation(t *testing.T) {
	c := Customer{X: 1, TX: 1, T: 2}
	if _, err := mbgCDNOW.ExpectedPurchases(c, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative horizon: %v", err)
	}
	if _, err := mbgCDNOW.PNoPurchase(c, math.NaN()); !errors.Is(err, ErrInvalid) {
		t.Errorf("NaN horizon: %v", err)
	}
	if _, err := (MBGNBD{R: 1, Alpha: 1, A: -1, B: 1}).PAlive(c); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative a: %v", err)
	}
	if _, err := FitMBGNBD(nil, FitOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("nil summary: %v", err)
	}
}
