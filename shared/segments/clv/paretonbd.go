package clv

import (
	"math"
)

// ParetoNBD holds the four parameters of the Pareto/NBD model (Schmittlein,
// Morrison & Colombo 1987): while alive a customer buys at a Poisson rate λ
// drawn from Gamma(R, Alpha), and stays alive for an exponential lifetime
// whose rate μ is drawn from Gamma(S, Beta), independently of λ. Unlike the
// BG/NBD, a customer can drop out at any moment, not only just after a
// purchase. Alpha and Beta are in the time unit of the data.
type ParetoNBD struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	S     float64 `json:"s"`
	Beta  float64 `json:"beta"`
}

// ParetoNBDFit is the result of a maximum-likelihood fit.
type ParetoNBDFit struct {
	Model         ParetoNBD `json:"model"`
	LogLikelihood float64   `json:"log_likelihood"`
	Customers     float64   `json:"customers"`
	Iterations    int       `json:"iterations"`
}

// Validate reports whether every parameter is positive and finite.
func (m ParetoNBD) Validate() error {
	return positive("Pareto/NBD", m, m.R, m.Alpha, m.S, m.Beta)
}

// Name returns "paretonbd".
func (m ParetoNBD) Name() string { return ModelParetoNBD }

// logTerms returns the logs of the two parts of the likelihood of a
// customer with x repeat purchases, the last at tx, observed to T, leaving
// out the factor Γ(r+x)α^r β^s / Γ(r) common to both (Fader & Hardie 2005,
// "A Note on Deriving the Pareto/NBD Model", equation 13 before the 2F1 is
// introduced):
//
//	alive = (α+T)^-(r+x) · (β+T)^-s                    still alive at T
//	dead  = s · ∫_tx^T (α+τ)^-(r+x) · (β+τ)^-(s+1) dτ   died at τ in (tx, T]
//
// Given λ and μ the customer alive at T contributes λ^x e^-(λ+μ)T and the
// one who died at τ contributes λ^x e^-λτ μ e^-μτ; averaging e^-λτ over
// Gamma(r, α) and μe^-μτ over Gamma(s, β) gives the integrands above.
func (m ParetoNBD) logTerms(x, tx, T float64) (alive, dead float64) {
	alive = -(m.R+x)*math.Log(m.Alpha+T) - m.S*math.Log(m.Beta+T)
	dead = math.Log(m.S) + logPowerIntegral(m.Alpha, m.R+x, m.Beta, m.S+1, tx, T)
	return alive, dead
}

// LogLikelihood returns the Pareto/NBD log-likelihood of every customer in
// s (Fader & Hardie 2005, equation 16, in the integral form of logTerms).
func (m ParetoNBD) LogLikelihood(s *Summary) float64 {
	return paretoLL(m, s.groups())
}

func paretoLL(m ParetoNBD, groups []tupleGroup) float64 {
	common := m.R*math.Log(m.Alpha) + m.S*math.Log(m.Beta) - lgamma(m.R)
	var ll float64
	for _, g := range groups {
		head := lgamma(m.R+g.x) + common
		for i, w := range g.weight {
			alive, dead := m.logTerms(g.x, g.tx[i], g.t[i])
			ll += w * (head + logSumExp(alive, dead))
		}
	}
	return ll
}

// paretoGradTol is the gradient at which a Pareto/NBD fit stops: far above
// the noise of the central-difference gradient (about 1e-10 in the mean
// log-likelihood per log-parameter), and low enough that on CDNOW the
// parameters agree with a Nelder-Mead polish to a few parts in a million.
const paretoGradTol = 1e-7

// FitParetoNBD finds the maximum-likelihood Pareto/NBD parameters for the
// customers in s. The gradient is by central differences in the
// log-parameters: the derivatives of the 2F1 terms with respect to their
// parameters have no convenient closed form, and the likelihood is smooth
// and cheap enough that eight extra evaluations per step cost little.
func FitParetoNBD(s *Summary, opts FitOptions) (ParetoNBDFit, error) {
	θ, ll, n, iters, err := fitFour("Pareto/NBD", s, opts, false, func(θ [4]float64, groups []tupleGroup, grad []float64) float64 {
		return paretoLL(ParetoNBD{θ[0], θ[1], θ[2], θ[3]}, groups)
	})
	if err != nil {
		return ParetoNBDFit{}, err
	}
	return ParetoNBDFit{Model: ParetoNBD{θ[0], θ[1], θ[2], θ[3]}, LogLikelihood: ll, Customers: n, Iterations: iters}, nil
}

// check validates the model and a customer before a prediction.
func (m ParetoNBD) check(c Customer) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return c.Validate()
}

// PAlive returns the probability that the customer is still alive at T
// given their history: the alive term's share of the likelihood (Fader &
// Hardie 2005, equation 18).
func (m ParetoNBD) PAlive(c Customer) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	alive, dead := m.logTerms(float64(c.X), c.TX, c.T)
	return pAlive(dead - alive), nil
}

// ExpectedPurchases returns the number of purchases the customer is
// expected to make in (T, T+t], given their history (Fader & Hardie 2005,
// equation 22):
//
//	P(alive) · (r+x)/(α+T) · ∫_0^t ((β+T)/(β+T+u))^s du
//
// Given alive at T the posterior of λ is Gamma(r+x, α+T) and that of μ is
// Gamma(s, β+T); a customer buys at rate E[λ] while still alive at T+u,
// which has probability E[e^-μu] = ((β+T)/(β+T+u))^s. The integral is
// (β+T)/(s-1) · (1 - ((β+T)/(β+T+t))^(s-1)), or (β+T)·log(1 + t/(β+T)) at
// s = 1, evaluated without the 0/0 there.
func (m ParetoNBD) ExpectedPurchases(c Customer, t float64) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	if t == 0 {
		return 0, nil
	}
	bT := m.Beta + c.T
	alive, dead := m.logTerms(float64(c.X), c.TX, c.T)
	rate := (m.R + float64(c.X)) / (m.Alpha + c.T)
	return pAlive(dead-alive) * rate * bT * survivalIntegral(m.S-1, t/bT), nil
}

// survivalIntegral returns (1 - (1+y)^-u)/u, and log(1+y) at u = 0.
func survivalIntegral(u, y float64) float64 {
	l := math.Log1p(y)
	if u == 0 {
		return l
	}
	return -math.Expm1(-u*l) / u
}

// PNoPurchase returns the probability that the customer makes no purchase
// in (T, T+t], given their history.
//
// Having history (x, tx) over (0, T] and then no purchase in (T, T+t] is
// the same event as having history (x, tx) over (0, T+t], so the
// probability is the ratio of likelihoods L(x, tx, T+t) / L(x, tx, T).
// Spelled out with logTerms, the numerator's alive term is the customer
// alive at T who neither buys nor dies before T+t, and its dead term gains
// s·∫_T^(T+t), the customer alive at T who dies at τ in the window before
// buying. Divided by L(x, tx, T) this is
//
//	P(dead at T) + P(alive at T) · E[ e^-(λ+μ)t + ∫_0^t μ e^-(λ+μ)u du ]
//
// with (λ, μ) from their posterior given alive, Gamma(r+x, α+T) and
// Gamma(s, β+T): a customer who dies within the window only has to make no
// purchase before dying. As t → ∞ it tends to
// P(dead) + P(alive)·E[μ/(λ+μ) | alive], not to P(dead).
func (m ParetoNBD) PNoPurchase(c Customer, t float64) (float64, error) {
	if err := m.check(c); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	if t == 0 {
		return 1, nil
	}
	x := float64(c.X)
	before := logSumExp(m.logTerms(x, c.TX, c.T))
	after := logSumExp(m.logTerms(x, c.TX, c.T+t))
	return math.Min(1, math.Exp(after-before)), nil
}
