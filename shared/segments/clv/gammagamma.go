package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma holds the parameters of the Gamma-Gamma spend model: a
// customer's spend per purchase is Gamma(P, ν) with ν drawn from
// Gamma(Q, V), independent of how often they buy. V is in the currency
// unit of the spend data.
type GammaGamma struct {
	P float64 `json:"p"`
	Q float64 `json:"q"`
	V float64 `json:"v"`
}

// Validate reports whether every parameter is positive and finite.
func (m GammaGamma) Validate() error {
	return positive("Gamma-Gamma", m, m.P, m.Q, m.V)
}

// GammaGammaFit is the result of a maximum-likelihood fit.
type GammaGammaFit struct {
	Model         GammaGamma `json:"model"`
	LogLikelihood float64    `json:"log_likelihood"`
	Customers     float64    `json:"customers"`
	Iterations    int        `json:"iterations"`
}

// LogLikelihood returns the log-likelihood of the observed mean spends in s
// (the density of the sample mean of x Gamma(p, ν) draws, mixed over ν).
func (m GammaGamma) LogLikelihood(s *SpendSummary) float64 {
	return ggLL(m, s.rows(), nil)
}

// ggLL sums the log-likelihood and, when grad is non-nil, fills it with the
// derivative with respect to (log p, log q, log v).
func ggLL(m GammaGamma, rows []spendRow, grad []float64) float64 {
	p, q, v := m.P, m.Q, m.V
	lgQ := lgamma(q)
	logV := math.Log(v)
	var psiQ float64
	if grad != nil {
		psiQ = mathext.Digamma(q)
		for i := range grad {
			grad[i] = 0
		}
	}
	var ll, dp, dq, dv float64
	lastX := -1.0
	var headX, psiPXQ, psiPX float64
	for _, row := range rows {
		x, mean, w := row.x, row.mean, row.weight
		px := p * x
		if x != lastX {
			// Rows are sorted by x, so the x-only terms are computed once per x.
			headX = lgamma(px+q) - lgamma(px) - lgQ + q*logV + px*math.Log(x)
			if grad != nil {
				psiPXQ, psiPX = mathext.Digamma(px+q), mathext.Digamma(px)
			}
			lastX = x
		}
		logM := math.Log(mean)
		logVXM := math.Log(v + x*mean)
		ll += w * (headX + (px-1)*logM - (px+q)*logVXM)
		if grad != nil {
			dp += w * x * (psiPXQ - psiPX + logM + math.Log(x) - logVXM)
			dq += w * (psiPXQ - psiQ + logV - logVXM)
			dv += w * (q/v - (px+q)/(v+x*mean))
		}
	}
	if grad != nil {
		grad[0], grad[1], grad[2] = dp*p, dq*q, dv*v
	}
	return ll
}

// FitGammaGamma finds the maximum-likelihood Gamma-Gamma parameters for the
// customers in s (those with at least one repeat purchase).
func FitGammaGamma(s *SpendSummary, opts FitOptions) (GammaGammaFit, error) {
	if s == nil || s.Customers() == 0 {
		return GammaGammaFit{}, fmt.Errorf("fit Gamma-Gamma: %w", ErrNoData)
	}
	start := opts.Start
	if start == nil {
		start = []float64{1, 1, 1}
	}
	if len(start) != 3 {
		return GammaGammaFit{}, fmt.Errorf("fit Gamma-Gamma: %w: %d starting values, want 3", ErrInvalid, len(start))
	}
	rows := s.rows()
	n := s.Customers()
	nll := func(lp, grad []float64) float64 {
		m := GammaGamma{math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])}
		ll := ggLL(m, rows, grad)
		for i := range grad {
			grad[i] = -grad[i] / n
		}
		if !finite(ll) {
			return math.Inf(1)
		}
		return -ll / n
	}
	p, f, iters, err := minimizeLog(nll, start, opts)
	if err != nil {
		return GammaGammaFit{}, fmt.Errorf("fit Gamma-Gamma on %v customers: %w", n, err)
	}
	return GammaGammaFit{
		Model:         GammaGamma{p[0], p[1], p[2]},
		LogLikelihood: -f * n,
		Customers:     n,
		Iterations:    iters,
	}, nil
}

// ErrNoMeanSpend reports a Gamma-Gamma model with q <= 1, whose population
// mean spend is infinite, so no expectation for a customer exists.
var ErrNoMeanSpend = fmt.Errorf("%w: Gamma-Gamma q <= 1 has no finite mean spend", ErrInvalid)

// MeanSpend returns the population mean spend per purchase, p·v/(q-1): the
// expected spend of a customer with no repeat purchase yet.
func (m GammaGamma) MeanSpend() (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if m.Q <= 1 {
		return 0, ErrNoMeanSpend
	}
	return m.P * m.V / (m.Q - 1), nil
}

// ExpectedSpend returns the expected spend per purchase of a customer with
// x repeat purchases averaging mean: a weighted average of the population
// mean and the customer's own mean, the weight on their own mean growing
// with x. For x = 0 (or no positive spend seen) it is the population mean.
func (m GammaGamma) ExpectedSpend(x int, mean float64) (float64, error) {
	pop, err := m.MeanSpend()
	if err != nil {
		return 0, err
	}
	if x < 0 || math.IsNaN(mean) || math.IsInf(mean, 0) {
		return 0, fmt.Errorf("%w: x = %d, mean spend %v", ErrInvalid, x, mean)
	}
	if x == 0 || mean <= 0 {
		return pop, nil
	}
	px := m.P * float64(x)
	// Written as a convex combination rather than p(v+x·mean)/(px+q-1) so a
	// huge x cannot overflow the numerator.
	wPop := (m.Q - 1) / (px + m.Q - 1)
	return wPop*pop + (1-wPop)*mean, nil
}
