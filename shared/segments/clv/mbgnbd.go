package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// MBGNBD holds the four parameters of the modified BG/NBD model (Batislam,
// Denizel & Filiztekin 2007): as BG/NBD, a customer buys at a Poisson rate
// drawn from Gamma(R, Alpha) and drops out with a probability p drawn from
// Beta(A, B), but the coin is tossed at the first purchase (time 0) as well
// as after each repeat purchase, so a customer with no repeat purchase may
// already be gone. Alpha is in the time unit of the data.
type MBGNBD struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

// MBGNBDFit is the result of a maximum-likelihood fit.
type MBGNBDFit struct {
	Model         MBGNBD  `json:"model"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     float64 `json:"customers"`
	Iterations    int     `json:"iterations"`
}

// Validate reports whether every parameter is positive and finite.
func (m MBGNBD) Validate() error {
	return positive("MBG/NBD", m, m.R, m.Alpha, m.A, m.B)
}

// Name returns "mbgnbd".
func (m MBGNBD) Name() string { return ModelMBGNBD }

// LogLikelihood returns the MBG/NBD log-likelihood of every customer in s
// (Batislam et al. 2007, appendix, with the correction of Wagner & Hoppe
// 2008):
//
//	L = Γ(r+x)α^r/Γ(r) · [ B(a, b+x+1)/B(a,b) · (α+T)^-(r+x)
//	                      + B(a+1, b+x)/B(a,b) · (α+tx)^-(r+x) ]
//
// The first term is the customer who survived x+1 tosses, the second the one
// who dropped out at the toss after their last purchase; unlike BG/NBD the
// second term is there for x = 0 too (with tx = 0).
func (m MBGNBD) LogLikelihood(s *Summary) float64 {
	return mbgnbdLL(m, s.groups(), nil)
}

// mbgnbdLL sums the log-likelihood over groups and, when grad is non-nil,
// fills it with the derivative with respect to (log r, log α, log a, log b).
// With w1, w2 the shares of the two terms in the bracket:
//
//	∂/∂r = ψ(r+x) - ψ(r) + log α - w1·log(α+T) - w2·log(α+tx)
//	∂/∂α = r/α - (r+x)·(w1/(α+T) + w2/(α+tx))
//	∂/∂a = ψ(a+b) - ψ(a+b+x+1) + w2/a
//	∂/∂b = ψ(a+b) - ψ(a+b+x+1) - ψ(b) + ψ(b+x) + w1/(b+x)
func mbgnbdLL(m MBGNBD, groups []tupleGroup, grad []float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	logAlpha := math.Log(alpha)
	lbAB := lbeta(a, b)
	var psiR, psiAB, psiB float64
	if grad != nil {
		psiR, psiAB, psiB = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
		for i := range grad {
			grad[i] = 0
		}
	}
	var ll float64
	for _, g := range groups {
		x := g.x
		head := lgamma(r+x) - lgamma(r) + r*logAlpha
		lb1 := lbeta(a, b+x+1) - lbAB
		lb2 := lbeta(a+1, b+x) - lbAB
		var psiRX, psiABX1, psiBX float64
		if grad != nil {
			psiRX, psiABX1, psiBX = mathext.Digamma(r+x), mathext.Digamma(a+b+x+1), mathext.Digamma(b+x)
		}
		var sumLL, dr, dalpha, da, db float64
		for i, w := range g.weight {
			lT, lTx := math.Log(alpha+g.t[i]), math.Log(alpha+g.tx[i])
			t1 := lb1 - (r+x)*lT
			t2 := lb2 - (r+x)*lTx
			l := logSumExp(t1, t2)
			sumLL += w * (head + l)
			if grad == nil {
				continue
			}
			w1 := math.Exp(t1 - l)
			w2 := 1 - w1
			dr += w * (psiRX - psiR + logAlpha - w1*lT - w2*lTx)
			dalpha += w * (r/alpha - (r+x)*(w1/(alpha+g.t[i])+w2/(alpha+g.tx[i])))
			da += w * (psiAB - psiABX1 + w2/a)
			db += w * (psiAB - psiABX1 - psiB + psiBX + w1/(b+x))
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

// FitMBGNBD finds the maximum-likelihood MBG/NBD parameters for the
// customers in s.
func FitMBGNBD(s *Summary, opts FitOptions) (MBGNBDFit, error) {
	θ, ll, n, iters, err := fitFour("MBG/NBD", s, opts, true, func(θ [4]float64, groups []tupleGroup, grad []float64) float64 {
		return mbgnbdLL(MBGNBD{θ[0], θ[1], θ[2], θ[3]}, groups, grad)
	})
	if err != nil {
		return MBGNBDFit{}, err
	}
	return MBGNBDFit{Model: MBGNBD{θ[0], θ[1], θ[2], θ[3]}, LogLikelihood: ll, Customers: n, Iterations: iters}, nil
}

// check validates the model and a customer before a prediction.
func (m MBGNBD) check(c Customer) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return c.Validate()
}

// logOddsDead returns log(P(dead)/P(alive)): the ratio of the likelihood's
// two terms, a/(b+x) · ((α+T)/(α+tx))^(r+x), for every x including 0.
func (m MBGNBD) logOddsDead(c Customer) float64 {
	x := float64(c.X)
	return math.Log(m.A) - math.Log(m.B+x) + (m.R+x)*(math.Log(m.Alpha+c.T)-math.Log(m.Alpha+c.TX))
}

// PAlive returns the probability that the customer is still alive at T
// given their history (Batislam et al. 2007, appendix, equation 5).
func (m MBGNBD) PAlive(c Customer) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	return pAlive(m.logOddsDead(c)), nil
}

// ExpectedPurchases returns the number of purchases the customer is
// expected to make in (T, T+t], given their history (Wagner & Hoppe 2008):
//
//	P(alive) · (a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]
//
// Given alive, λ | data ~ Gamma(r+x, α+T) and p | data ~ Beta(a, b+x+1)
// (x+1 tosses survived), and a live customer buys (1 - e^-λpt)/p times in
// expectation, exactly as in BG/NBD where p | data ~ Beta(a, b+x). So the
// bracket is BG/NBD's with b+1 in place of b, and the same series serves.
func (m MBGNBD) ExpectedPurchases(c Customer, t float64) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	if t == 0 {
		return 0, nil
	}
	x := float64(c.X)
	shifted := BGNBD{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B + 1}
	g, err := growth(shifted, x, m.Alpha+c.T, t)
	if err != nil {
		return 0, fmt.Errorf("expected purchases for x=%d t_x=%v T=%v over %v: %w", c.X, c.TX, c.T, t, err)
	}
	return (m.A + m.B + x) * g * pAlive(m.logOddsDead(c)), nil
}

// PNoPurchase returns the probability that the customer makes no purchase
// in (T, T+t], given their history: P(dead) + P(alive)·((α+T)/(α+T+t))^(r+x)
// (see pNoPurchaseAfterPurchase). As t → ∞ it tends to P(dead), which
// unlike BG/NBD is positive for a customer with no repeat purchase.
func (m MBGNBD) PNoPurchase(c Customer, t float64) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	return pNoPurchaseAfterPurchase(pAlive(m.logOddsDead(c)), m.R, m.Alpha, c, t), nil
}
