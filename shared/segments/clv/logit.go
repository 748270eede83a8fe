package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// ChurnLogit is a discriminative churn model: a logistic regression of "no
// purchase in the next Horizon time units" on features of a customer's
// history (x, t_x, T), trained on an earlier window where the outcome is
// known. Unlike the purchase models it says nothing about how many
// purchases follow, only whether any does, and only for the horizon it was
// trained on.
type ChurnLogit struct {
	// Horizon is the horizon the model was trained for, in the data's
	// time unit.
	Horizon float64 `json:"horizon"`
	// Weights are the coefficients of the standardised features, the
	// intercept last; Mean and Scale standardise them.
	Weights []float64 `json:"weights"`
	Mean    []float64 `json:"mean"`
	Scale   []float64 `json:"scale"`
}

// ModelLogit is the name of the churn logit among the models.
const ModelLogit = "logit"

// ChurnFeatures is what the discriminative churn models see of a
// customer: the history the purchase models see, the trend of their
// purchases and their spend (the churn logit), and their purchase days
// (the boosted model).
type ChurnFeatures struct {
	Customer
	// Recent and Earlier count purchase days in the last horizon before
	// the calibration end and in the horizon before that.
	Recent, Earlier int
	// MeanSpend is the mean spend per purchase day, in currency units.
	MeanSpend float64
	// Days are the purchase days up to the calibration end, oldest
	// first; only ChurnBoost reads them.
	Days []PurchaseDay
}

// logitFeatures are the model's inputs: log frequency, log recency (time
// since the last purchase), log age, log purchase span, the purchase rate,
// the purchase days of the last two horizons and log mean spend. Logs tame
// the long tails of wholesale customers.
func logitFeatures(f ChurnFeatures) []float64 {
	c := f.Customer
	x := float64(c.X)
	gap := (c.TX + 1) / (x + 1) // mean time between purchases
	return []float64{math.Log1p(x), math.Log1p(c.T - c.TX), math.Log1p(c.T), math.Log1p(c.TX), x / (c.T + 1),
		math.Log1p(float64(f.Recent)), math.Log1p(float64(f.Earlier)), math.Log1p(max(0, f.MeanSpend)),
		math.Log1p((c.T - c.TX) / gap)}
}

// logitRidge is the L2 penalty on the standardised coefficients (not the
// intercept), per customer: enough to keep a small shop's fit finite.
const logitRidge = 1e-3

// FitChurnLogit fits the logistic regression on customers whose outcome
// over horizon is known (none[i]: no purchase in it) by penalised maximum
// likelihood (BFGS with the analytic gradient).
func FitChurnLogit(cs []ChurnFeatures, none []bool, horizon float64) (ChurnLogit, error) {
	if len(cs) == 0 || len(cs) != len(none) {
		return ChurnLogit{}, fmt.Errorf("%w: %d customers, %d outcomes", ErrNoData, len(cs), len(none))
	}
	var pos int
	for _, v := range none {
		if v {
			pos++
		}
	}
	if pos == 0 || pos == len(cs) {
		return ChurnLogit{}, fmt.Errorf("%w: every customer has the same outcome", ErrNoData)
	}
	k := len(logitFeatures(cs[0]))
	m := ChurnLogit{Horizon: horizon, Mean: make([]float64, k), Scale: make([]float64, k)}
	rows := make([][]float64, len(cs))
	for i, c := range cs {
		if err := c.validate(); err != nil {
			return ChurnLogit{}, err
		}
		rows[i] = logitFeatures(c)
		for j, v := range rows[i] {
			m.Mean[j] += v
		}
	}
	n := float64(len(cs))
	for j := range m.Mean {
		m.Mean[j] /= n
	}
	for _, r := range rows {
		for j, v := range r {
			m.Scale[j] += (v - m.Mean[j]) * (v - m.Mean[j])
		}
	}
	for j := range m.Scale {
		m.Scale[j] = math.Sqrt(m.Scale[j] / n)
		if m.Scale[j] == 0 {
			m.Scale[j] = 1
		}
	}
	z := make([][]float64, len(rows))
	for i, r := range rows {
		z[i] = m.standardise(r)
	}
	nll := func(w, grad []float64) float64 {
		var s float64
		for i := range grad {
			grad[i] = 0
		}
		for i, zi := range z {
			eta := dot(w, zi)
			y := 0.0
			if none[i] {
				y = 1
			}
			// log(1 + e^η) − yη, computed without overflow.
			s += softplus(eta) - y*eta
			d := sigmoid(eta) - y
			for j, v := range zi {
				grad[j] += d * v
			}
		}
		for j := 0; j < k; j++ {
			s += 0.5 * logitRidge * n * w[j] * w[j]
			grad[j] += logitRidge * n * w[j]
		}
		for j := range grad {
			grad[j] /= n
		}
		return s / n
	}
	p := optimize.Problem{
		Func: func(w []float64) float64 { return nll(w, make([]float64, len(w))) },
		Grad: func(grad, w []float64) { nll(w, grad) },
	}
	res, err := optimize.Minimize(p, make([]float64, k+1), &optimize.Settings{GradientThreshold: 1e-9}, &optimize.BFGS{})
	if err != nil && (res == nil || !finiteAll(res.X)) {
		return ChurnLogit{}, fmt.Errorf("fit churn logit: %w", err)
	}
	m.Weights = res.X
	return m, nil
}

func (f ChurnFeatures) validate() error {
	if f.Recent < 0 || f.Earlier < 0 || math.IsNaN(f.MeanSpend) || math.IsInf(f.MeanSpend, 0) {
		return fmt.Errorf("%w: churn features %+v", ErrInvalid, f)
	}
	return f.Customer.Validate()
}

// standardise returns the features centred and scaled, with the
// intercept's 1 appended.
func (m ChurnLogit) standardise(f []float64) []float64 {
	out := make([]float64, len(f)+1)
	for j, v := range f {
		out[j] = (v - m.Mean[j]) / m.Scale[j]
	}
	out[len(f)] = 1
	return out
}

// ErrHorizon is returned when a churn logit is asked about a horizon it
// was not trained for.
var ErrHorizon = errors.New("clv: the churn logit was trained for another horizon")

// PNoPurchase returns the probability of no purchase in the next t time
// units; t must be the horizon the model was trained for.
func (m ChurnLogit) PNoPurchase(c ChurnFeatures, t float64) (float64, error) {
	if math.Abs(t-m.Horizon) > 1e-9*max(1, m.Horizon) {
		return 0, fmt.Errorf("%w: trained for %v, asked for %v", ErrHorizon, m.Horizon, t)
	}
	if err := c.validate(); err != nil {
		return 0, err
	}
	if len(m.Weights) != len(m.Mean)+1 {
		return 0, fmt.Errorf("%w: churn logit without weights", ErrInvalid)
	}
	return sigmoid(dot(m.Weights, m.standardise(logitFeatures(c)))), nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func finiteAll(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}
