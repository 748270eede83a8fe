package holdout

import (
	"fmt"
	"math"

	"tailor/shared/segments/clv"
)

// Fitter fits the named model on the history before the selection's
// horizon (the caller knows which history that is).
type Fitter func(name string) (Model, error)

// Candidate is one model's score in a selection.
type Candidate struct {
	Model string  `json:"model"`
	Brier float64 `json:"brier"`
	// AUC is the churn probability's ROC AUC, when computed (0 otherwise).
	AUC float64 `json:"auc,omitempty"`
	// Err is why the model could not be fitted or scored; such a model is
	// never selected.
	Err string `json:"error,omitempty"`
}

// Selection is which model a selection chose and why.
type Selection struct {
	Model string `json:"model"`
	// Rule says how: the lowest Brier score of the churn probability on
	// the last horizon before the run date, each model fitted on what came
	// before it.
	Rule       string      `json:"rule"`
	Candidates []Candidate `json:"candidates"`
}

// SelectionRule is the rule Select applies, as recorded with a run.
const SelectionRule = "lowest Brier score of P(no purchase in the horizon) on the last horizon before the run date, each model fitted on the purchases before that horizon; a later model must beat an earlier one by more than 0.0001"

// BrierTie is how much lower a later candidate's Brier score must be to
// be chosen over an earlier one: a difference below it is noise, and the
// earlier (simpler) model keeps the choice stable from night to night.
const BrierTie = 1e-4

// Select chooses among the named models by evidence the run itself holds,
// without looking past its own date: inner are the customers as of the
// run date minus horizon, with what they did in the horizon up to the run
// date as their holdout. Each model is fitted on inner's calibration
// histories and scored by the Brier score of its churn probability; the
// lowest wins (ties: the earlier name). A model that fails is recorded and
// skipped; if all fail the first error is returned.
func Select(inner []Customer, names []string, fit Fitter, horizon float64) (Selection, error) {
	sel := Selection{Rule: SelectionRule}
	if len(inner) == 0 {
		return sel, ErrNoCustomers
	}
	best := math.Inf(1)
	var firstErr error
	for _, name := range names {
		c := Candidate{Model: name}
		m, err := fit(name)
		var r Report
		if err == nil {
			r, err = Run(inner, m, nil, horizon)
		}
		if err != nil {
			c.Err = err.Error()
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", name, err)
			}
		} else {
			c.Brier = r.Churn.Brier
			if !math.IsNaN(r.Churn.AUC) {
				c.AUC = r.Churn.AUC
			}
			if c.Brier < best-BrierTie {
				best, sel.Model = c.Brier, name
			}
		}
		sel.Candidates = append(sel.Candidates, c)
	}
	if sel.Model == "" {
		return sel, firstErr
	}
	return sel, nil
}

// Hybrid takes the churn probability from one model and the expected
// purchases from another: a discriminative churn model says only whether
// a customer buys again, not how often.
type Hybrid struct {
	Label string
	Churn interface {
		PNoPurchase(clv.ChurnFeatures, float64) (float64, error)
	}
	Counts Model
}

// Name is the hybrid's label.
func (h Hybrid) Name() string { return h.Label }

// PNoPurchase is the churn model's for a customer known by their history
// alone (no trend, no spend); Run passes the whole features instead.
func (h Hybrid) PNoPurchase(c clv.Customer, t float64) (float64, error) {
	return h.Churn.PNoPurchase(clv.ChurnFeatures{Customer: c}, t)
}

// ExpectedPurchases is the counts model's.
func (h Hybrid) ExpectedPurchases(c clv.Customer, t float64) (float64, error) {
	return h.Counts.ExpectedPurchases(c, t)
}
