package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD holds the four parameters of the beta-geometric/NBD model: while
// alive a customer buys at a Poisson rate drawn from Gamma(R, Alpha), and
// after each purchase drops out with a probability drawn from Beta(A, B).
// Alpha is in the time unit of the data it was fitted on.
type BGNBD struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

// Validate reports whether every parameter is positive and finite.
func (m BGNBD) Validate() error {
	return positive("BG/NBD", m, m.R, m.Alpha, m.A, m.B)
}

// positive reports an ErrInvalid naming model unless every parameter is
// positive and finite (NaN fails too).
func positive(model string, params any, vs ...float64) error {
	for _, v := range vs {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s parameters %+v", ErrInvalid, model, params)
		}
	}
	return nil
}

// BGNBDFit is the result of a maximum-likelihood fit.
type BGNBDFit struct {
	Model         BGNBD   `json:"model"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     float64 `json:"customers"`
	Iterations    int     `json:"iterations"`
}

// LogLikelihood returns the BG/NBD log-likelihood of every customer in s
// (equation 6 of Fader, Hardie & Lee 2005), summed in log space.
func (m BGNBD) LogLikelihood(s *Summary) float64 {
	return bgnbdLL(m, s.groups(), nil)
}

// bgnbdLL sums the log-likelihood over groups and, when grad is non-nil,
// fills it with the derivative with respect to (log r, log α, log a, log b).
func bgnbdLL(m BGNBD, groups []tupleGroup, grad []float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	logAlpha := math.Log(alpha)
	lbAB := lbeta(a, b)
	var psiR, psiAB float64
	if grad != nil {
		psiR, psiAB = mathext.Digamma(r), mathext.Digamma(a+b)
		for i := range grad {
			grad[i] = 0
		}
	}
	var ll float64
	for _, g := range groups {
		x := g.x
		// Terms that depend on x only.
		head := lgamma(r+x) - lgamma(r) + r*logAlpha
		lb1 := lbeta(a, b+x) - lbAB
		lb2 := math.Inf(-1)
		if x > 0 {
			lb2 = lbeta(a+1, b+x-1) - lbAB
		}
		var psiRX, psiABX, psiBX1, psiB float64
		if grad != nil {
			psiRX, psiABX = mathext.Digamma(r+x), mathext.Digamma(a+b+x)
			if x > 0 {
				psiBX1, psiB = mathext.Digamma(b+x-1), mathext.Digamma(b)
			}
		}
		var sumLL, dr, dalpha, da, db float64
		for i, w := range g.weight {
			lT := math.Log(alpha + g.t[i])
			t1 := lb1 - (r+x)*lT
			l := t1
			w1, w2 := 1.0, 0.0
			var lTx float64
			if x > 0 {
				lTx = math.Log(alpha + g.tx[i])
				t2 := lb2 - (r+x)*lTx
				l = logSumExp(t1, t2)
				w1 = math.Exp(t1 - l)
				w2 = 1 - w1
			}
			sumLL += w * (head + l)
			if grad == nil {
				continue
			}
			dr += w * (psiRX - psiR + logAlpha - w1*lT - w2*lTx)
			dalpha += w * (r/alpha - (r+x)*(w1/(alpha+g.t[i])+w2/(alpha+g.tx[i])))
			if x > 0 {
				da += w * (psiAB - psiABX + w2/a)
				db += w * (psiBX1 - psiB + w1/(b+x-1) + psiAB - psiABX)
			}
		}
		ll += sumLL
		if grad != nil {
			grad[0] += dr * r
			grad[1] += dalpha * alpha
			grad[2] += da * a
			grad[3] += db * b
		}
	}
	return ll
}

// FitBGNBD finds the maximum-likelihood BG/NBD parameters for the customers
// in s. The summary may be the merge of many workers' summaries.
func FitBGNBD(s *Summary, opts FitOptions) (BGNBDFit, error) {
	θ, ll, n, iters, err := fitFour("BG/NBD", s, opts, true, func(θ [4]float64, groups []tupleGroup, grad []float64) float64 {
		return bgnbdLL(BGNBD{θ[0], θ[1], θ[2], θ[3]}, groups, grad)
	})
	if err != nil {
		return BGNBDFit{}, err
	}
	return BGNBDFit{Model: BGNBD{θ[0], θ[1], θ[2], θ[3]}, LogLikelihood: ll, Customers: n, Iterations: iters}, nil
}

// logOddsDead returns log(P(dead)/P(alive)) for a customer with a repeat
// purchase; -Inf when x = 0 (never seen to repeat, so never seen to drop).
func (m BGNBD) logOddsDead(c Customer) float64 {
	if c.X == 0 {
		return math.Inf(-1)
	}
	x := float64(c.X)
	return math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+c.T)-math.Log(m.Alpha+c.TX))
}

// PAlive returns the probability that the customer is still active at T
// given their history (Fader, Hardie & Lee 2005, equation 11).
func (m BGNBD) PAlive(c Customer) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := c.Validate(); err != nil {
		return 0, err
	}
	return pAlive(m.logOddsDead(c)), nil
}

// pAlive is the logistic of minus the log-odds, written so neither tail
// overflows: a huge log-odds gives 0, not NaN.
func pAlive(logOdds float64) float64 {
	if logOdds > 0 {
		e := math.Exp(-logOdds)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(logOdds))
}

// ExpectedPurchases returns the number of purchases the customer is
// expected to make in the next t time units, given their history
// (Fader, Hardie & Lee 2005, equation 10).
func (m BGNBD) ExpectedPurchases(c Customer, t float64) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if !(t >= 0) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("%w: horizon %v", ErrInvalid, t)
	}
	return m.conditional(c, t)
}

// ExpectedPurchasesNew returns E[X(t)], the purchases a customer who has
// just arrived is expected to make in their first t time units (equation 7).
// It is the conditional expectation for a customer with no history.
func (m BGNBD) ExpectedPurchasesNew(t float64) (float64, error) {
	return m.ExpectedPurchases(Customer{}, t)
}

func (m BGNBD) conditional(c Customer, t float64) (float64, error) {
	if t == 0 {
		return 0, nil
	}
	x := float64(c.X)
	g, err := growth(m, x, m.Alpha+c.T, t)
	if err != nil {
		return 0, fmt.Errorf("expected purchases for x=%d t_x=%v T=%v over %v: %w", c.X, c.TX, c.T, t, err)
	}
	return (m.A + m.B + x - 1) * g * pAlive(m.logOddsDead(c)), nil
}

// growth returns
//
//	[1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z)] / (a-1),  z = t/(α+T+t),
//
// the bracketed factor of the conditional expectation. Euler's
// transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the
// product into (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z), whose
// parameters no longer grow with x (so large x cannot overflow), and
// writing that 2F1 as 1 + (a-1)·S makes the division by a-1 exact, so
// a = 1 is no singularity:
//
//	growth = -expm1((a-1)·L)/(a-1) - e^((a-1)·L) · S,   L = log(1-z).
func growth(m BGNBD, x, alphaT, t float64) (float64, error) {
	z := t / (alphaT + t)
	L := -math.Log1p(t / alphaT) // log(1-z) without cancellation
	u := m.A - 1
	first := -L
	if u != 0 {
		first = -math.Expm1(u*L) / u
	}
	aTilde := m.A + m.B - 1 - m.R
	c := m.A + m.B + x - 1
	s, ok := hypergeoTail(aTilde, m.A, c, z)
	if ok {
		return first - math.Exp(u*L)*s, nil
	}
	// Too close to z = 1, or parameters so large that the terms overflow
	// before they shrink: fall back to the expectation as an integral over
	// the dropout probability, which has no hypergeometric function in it.
	// (gonum's mathext.Hypergeo was tried here and gives wrong signs for
	// tiny a, b near z = 1.)
	if v, ok := expectedByQuadrature(m, x, alphaT, t); ok {
		return v / c, nil
	}
	return 0, fmt.Errorf("%w: 2F1(%v, %v; %v; %v)", ErrNotConverged, aTilde, u, c, z)
}

// expectedByQuadrature returns the conditional expected purchases of a
// customer known to be alive, computed as
//
//	∫ (1 - (1 + p·t/(α+T))^-(r+x)) / p  ·  Beta(p; a, b+x) dp
//
// (given alive, λ | data ~ Gamma(r+x, α+T) and p | data ~ Beta(a, b+x),
// and a live customer with rate λ and dropout p buys (1 - e^(-λpt))/p times
// in expectation). It uses tanh-sinh quadrature, halving the step until two
// successive estimates agree, because the Beta density can be singular at
// either end or very narrow; it reports false if they never agree.
func expectedByQuadrature(m BGNBD, x, alphaT, t float64) (float64, bool) {
	k := m.R + x
	rate := t / alphaT
	b := m.B + x
	lb := lbeta(m.A, b)
	softplus := func(y float64) float64 { // log(1+e^y) without overflow
		if y > 0 {
			return y + math.Log1p(math.Exp(-y))
		}
		return math.Log1p(math.Exp(y))
	}
	at := func(s float64) float64 {
		y := math.Pi * math.Sinh(s)
		logP, log1mP := -softplus(-y), -softplus(y)
		p := math.Exp(logP)
		var f float64
		if p*rate < 1e-8 {
			f = k * rate // the limit as p -> 0
		} else {
			f = -math.Expm1(-k*math.Log1p(p*rate)) / p
		}
		// Beta density times dp/ds = p(1-p)·π·cosh s, in log space.
		w := math.Exp(m.A*logP + b*log1mP - lb + math.Log(math.Pi*math.Cosh(s)))
		return f * w
	}
	// p is never formed below e^-700 (log p and log(1-p) are), so the range
	// can reach where p^a is negligible even for a near e^-30, the
	// smallest parameter a fit can return.
	const sMax = 40
	h := 0.5
	sum := at(0)
	for s := h; s <= sMax; s += h {
		sum += at(s) + at(-s)
	}
	prev := sum * h
	for level := 0; level < 14; level++ {
		h /= 2
		for s := h; s <= sMax; s += 2 * h {
			sum += at(s) + at(-s)
		}
		est := sum * h
		if !finite(est) {
			return 0, false
		}
		if level >= 2 && math.Abs(est-prev) <= 1e-10*math.Abs(est) {
			return est, true
		}
		prev = est
	}
	return 0, false
}

// maxSeriesTerms bounds the series; it needs about 36/(1-z) terms, so this
// covers z up to about 0.9993 before the quadrature takes over.
const maxSeriesTerms = 50000

// hypergeoTail returns S = Σ_{k≥1} (p)_k (a)_(k-1) / ((c)_k k!) z^k, which is
// (2F1(p, a-1; c; z) - 1)/(a-1) with the factor a-1 already divided out.
// It stops when a geometric bound on the remaining terms falls below
// machine precision relative to the sum, and reports false if that does not
// happen within maxSeriesTerms terms or the sum stops being finite.
func hypergeoTail(p, a, c, z float64) (float64, bool) {
	const eps = 1e-16
	term := p * z / c
	sum := term
	for k := 1.0; k < maxSeriesTerms; k++ {
		ratio := (p + k) * (a + k - 1) * z / ((c + k) * (k + 1))
		next := term * ratio
		// Every later ratio is at most max(|ratio|, z) once the ratio has
		// settled toward its limit z, so the tail is a geometric series.
		q := math.Max(math.Abs(ratio), z)
		if q < 1 && math.Abs(next)/(1-q) <= eps*math.Abs(sum) {
			return sum + next, true
		}
		if next == 0 {
			return sum, true
		}
		sum += next
		term = next
		if !finite(sum) {
			return 0, false
		}
	}
	return 0, false
}

// Name returns "bgnbd".
func (m BGNBD) Name() string { return ModelBGNBD }

// PNoPurchase returns the probability that the customer makes no purchase
// in (T, T+t], given their history: P(dead) + P(alive)·((α+T)/(α+T+t))^(r+x)
// (see pNoPurchaseAfterPurchase). As t → ∞ it tends to P(dead), which is 0
// for a customer with no repeat purchase: BG/NBD lets a customer drop out
// only after a purchase.
func (m BGNBD) PNoPurchase(c Customer, t float64) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	return pNoPurchaseAfterPurchase(pAlive(m.logOddsDead(c)), m.R, m.Alpha, c, t), nil
}
