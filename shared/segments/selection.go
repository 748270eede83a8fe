package segments

import (
	"fmt"
	"math"

	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
)

// AutoModel is the purchase-model setting that lets each run choose by
// evidence (SelectPurchaseModel); any clv.ModelNames() name fixes one.
const AutoModel = "auto"

// InnerObservation is a group of customers in a model selection: their
// history as of the run date minus the churn horizon, whether they bought
// nothing in the horizon up to the run date, and how many share both.
type InnerObservation struct {
	Customer clv.Customer
	None     bool
	Weight   float64
}

// SelectedModels are the purchase models an automatic selection weighs:
// those with an analytic likelihood gradient, whose fits take seconds on a
// large base. Pareto/NBD (fitted with numerical gradients, which can take
// minutes) is offered as a configured model and in `tailor backtest`.
var SelectedModels = []string{clv.ModelBGNBD, clv.ModelMBGNBD}

// SelectPurchaseModel chooses among SelectedModels by the rule of
// holdout.SelectionRule: each model is fitted on the inner histories and
// scored by the weighted Brier score of P(no purchase in horizon) against
// what the customers did; the lowest wins. A model that fails to fit is
// recorded and skipped.
func SelectPurchaseModel(inner []InnerObservation, horizon float64, opts clv.FitOptions) (holdout.Selection, error) {
	sel := holdout.Selection{Rule: holdout.SelectionRule}
	var s clv.Summary
	var total float64
	for _, o := range inner {
		if err := s.AddN(o.Customer, o.Weight); err != nil {
			return sel, err
		}
		total += o.Weight
	}
	if total == 0 {
		return sel, ErrNoData
	}
	best := math.Inf(1)
	var firstErr error
	for _, name := range SelectedModels {
		c := holdout.Candidate{Model: name}
		brier, err := weightedBrier(name, &s, inner, horizon, total, opts)
		if err != nil {
			c.Err = err.Error()
			if firstErr == nil {
				firstErr = err
			}
		} else {
			c.Brier = brier
			if brier < best-holdout.BrierTie {
				best, sel.Model = brier, name
			}
		}
		sel.Candidates = append(sel.Candidates, c)
	}
	if sel.Model == "" {
		return sel, firstErr
	}
	return sel, nil
}

func weightedBrier(name string, s *clv.Summary, inner []InnerObservation, horizon, total float64, opts clv.FitOptions) (float64, error) {
	m, _, err := clv.FitModel(name, s, opts)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, o := range inner {
		p, err := m.PNoPurchase(o.Customer, horizon)
		if err != nil {
			return 0, err
		}
		y := 0.0
		if o.None {
			y = 1
		}
		sum += o.Weight * (p - y) * (p - y)
	}
	return sum / total, nil
}

// PurchaseModelRecord is a fitted purchase model as a run stores it: its
// name, its parameters (in the run's time unit) and its log-likelihood.
type PurchaseModelRecord struct {
	Name          string             `json:"name"`
	Params        map[string]float64 `json:"params"`
	LogLikelihood float64            `json:"log_likelihood"`
}

// RecordPurchaseModel stores a fitted model.
func RecordPurchaseModel(m clv.PurchaseModel, ll float64) (PurchaseModelRecord, error) {
	r := PurchaseModelRecord{Name: m.Name(), LogLikelihood: ll}
	switch v := m.(type) {
	case clv.BGNBD:
		r.Params = map[string]float64{"r": v.R, "alpha": v.Alpha, "a": v.A, "b": v.B}
	case clv.MBGNBD:
		r.Params = map[string]float64{"r": v.R, "alpha": v.Alpha, "a": v.A, "b": v.B}
	case clv.ParetoNBD:
		r.Params = map[string]float64{"r": v.R, "alpha": v.Alpha, "s": v.S, "beta": v.Beta}
	default:
		return r, fmt.Errorf("%w: purchase model %T", ErrInvalid, m)
	}
	return r, nil
}

// Model returns the stored model.
func (r PurchaseModelRecord) Model() (clv.PurchaseModel, error) {
	p := r.Params
	var m clv.PurchaseModel
	switch r.Name {
	case clv.ModelBGNBD:
		m = clv.BGNBD{R: p["r"], Alpha: p["alpha"], A: p["a"], B: p["b"]}
	case clv.ModelMBGNBD:
		m = clv.MBGNBD{R: p["r"], Alpha: p["alpha"], A: p["a"], B: p["b"]}
	case clv.ModelParetoNBD:
		m = clv.ParetoNBD{R: p["r"], Alpha: p["alpha"], S: p["s"], Beta: p["beta"]}
	default:
		return nil, fmt.Errorf("%w: purchase model %q", ErrInvalid, r.Name)
	}
	return m, nil
}
