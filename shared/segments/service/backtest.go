package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"tailor/shared/segments"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
)

// Where the latest backtest's result is kept, whatever its dates: a blob
// of a run id no run has (run ids are dates).
const (
	latestBacktestRun  = "backtests"
	latestBacktestBlob = "latest"
)

// BacktestResult is what a backtest invocation found: the evaluation of
// the run's purchase model, chosen as a run as of the calibration end
// would choose it, against what the customers did up to the holdout end.
type BacktestResult struct {
	CalibrationEnd string             `json:"calibration_end"`
	HoldoutEnd     string             `json:"holdout_end"`
	Currency       string             `json:"currency"`
	Selection      *holdout.Selection `json:"selection,omitempty"`
	GammaGamma     clv.GammaGamma     `json:"gamma_gamma"`
	Report         holdout.Report     `json:"report"`
}

// Backtest calibrates on the customer records' purchase days up to
// calEnd (included) and scores the churn probability, expected purchases
// and expected spend against their purchase days in (calEnd, holdEnd]. The
// purchase model is the configured one, or chosen by the run's own rule on
// the churn horizon before calEnd. It reads every record once and holds
// the customers in memory. The result is stored as the blob
// "backtest/<holdout end>" of the run as of calEnd.
func (j *Job) Backtest(ctx context.Context, calEnd, holdEnd time.Time) (BacktestResult, error) {
	plan, err := NewPlan(calEnd, j.Config)
	if err != nil {
		return BacktestResult{}, err
	}
	holdEnd = AsOfDate(holdEnd)
	if !holdEnd.After(plan.AsOf) {
		return BacktestResult{}, badRequest("holdout_end must be after calibration_end")
	}
	cfg := plan.Config
	unit := cfg.Unit.Days()
	h := cfg.ChurnHorizonDays
	dates := map[string]time.Time{"cal": plan.AsOf, "hold": holdEnd, "inner": plan.AsOf.AddDate(0, 0, -h),
		"earlier": plan.AsOf.AddDate(0, 0, -2*h)}
	type row map[string]segments.Customer // by date key, one currency
	var mu sync.Mutex
	rows := map[string]map[string]row{} // currency → customer → row
	counts := map[string]int64{}
	errc := make(chan error, cfg.Segments)
	for seg := range cfg.Segments {
		go func() {
			errc <- j.Customers.ScanSegment(ctx, seg, cfg.Segments, func(page []segments.CustomerDays) error {
				for _, r := range page {
					got := map[string][]derived{}
					for k, d := range dates {
						ds, err := deriveEach(r, d)
						if err != nil {
							return err
						}
						got[k] = ds
					}
					mu.Lock()
					for _, d := range got["cal"] {
						counts[d.currency]++
						if rows[d.currency] == nil {
							rows[d.currency] = map[string]row{}
						}
						rw := row{}
						for k, ds := range got {
							for _, e := range ds {
								if e.currency == d.currency {
									rw[k] = e.customer
								}
							}
						}
						rows[d.currency][r.CustomerID] = rw
					}
					mu.Unlock()
				}
				return nil
			})
		}()
	}
	for range cfg.Segments {
		if err := <-errc; err != nil {
			return BacktestResult{}, fmt.Errorf("backtest: %w", err)
		}
	}
	currency := cfg.Currency
	if currency == segments.AutoCurrency {
		currency = dominant(counts)
	}
	res := BacktestResult{CalibrationEnd: plan.AsOf.Format(time.DateOnly), HoldoutEnd: holdEnd.Format(time.DateOnly), Currency: currency}
	byID := rows[currency]
	if len(byID) == 0 {
		return res, fmt.Errorf("backtest: %w", segments.ErrNoData)
	}
	cal := func(c segments.Customer) clv.Customer {
		return clv.Customer{X: c.PurchaseDays - 1, TX: float64(c.RecencyDays) / unit, T: float64(c.AgeDays) / unit}
	}
	var customers []holdout.Customer
	var inner []segments.InnerObservation
	var bg clv.Summary
	var spend clv.SpendSummary
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		rw := byID[id]
		c := rw["cal"]
		hc := holdout.Customer{ID: id, Cal: cal(c), HoldoutPurchases: rw["hold"].PurchaseDays - c.PurchaseDays,
			HoldoutSpend: float64(rw["hold"].TotalSpend-c.TotalSpend) / cfg.MinorPerUnit}
		if c.PurchaseDays > 1 {
			hc.MeanRepeatSpend = float64(c.RepeatSpend) / float64(c.PurchaseDays-1) / cfg.MinorPerUnit
		}
		hc.Features = clv.ChurnFeatures{Customer: hc.Cal, Recent: c.PurchaseDays - rw["inner"].PurchaseDays,
			Earlier: rw["inner"].PurchaseDays - rw["earlier"].PurchaseDays, MeanSpend: float64(c.TotalSpend) / float64(c.PurchaseDays) / cfg.MinorPerUnit}
		customers = append(customers, hc)
		if err := bg.Add(hc.Cal); err != nil {
			return res, err
		}
		if _, err := spend.Add(hc.Cal.X, hc.MeanRepeatSpend); err != nil {
			return res, err
		}
		if in, ok := rw["inner"]; ok && in.PurchaseDays > 0 {
			inner = append(inner, segments.InnerObservation{Customer: cal(in), None: in.PurchaseDays == c.PurchaseDays, Weight: 1})
		}
	}
	name := cfg.PurchaseModel
	if name == segments.AutoModel {
		sel, err := segments.SelectPurchaseModel(inner, float64(h)/unit, clv.FitOptions{MaxDuration: selectionBudget})
		if err != nil {
			sel = holdout.Selection{Model: clv.ModelBGNBD, Rule: "no selection: " + err.Error()}
		}
		res.Selection, name = &sel, sel.Model
	}
	m, _, err := clv.FitModel(name, &bg, clv.FitOptions{})
	if err != nil {
		return res, fmt.Errorf("backtest: fit %s: %w", name, err)
	}
	gg, err := clv.FitGammaGamma(&spend, clv.FitOptions{})
	if err != nil {
		return res, fmt.Errorf("backtest: fit Gamma-Gamma: %w", err)
	}
	res.GammaGamma = gg.Model
	if res.Report, err = holdout.Run(customers, m, gg.Model, float64(holdEnd.Sub(plan.AsOf).Hours()/24)/unit); err != nil {
		return res, fmt.Errorf("backtest: %w", err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return res, fmt.Errorf("backtest: encode: %w", err)
	}
	if err := j.Runs.PutBlob(ctx, plan.RunID, "backtest/"+res.HoldoutEnd, b); err != nil {
		return res, err
	}
	// The latest backtest also goes where GET /v1/segments/backtest reads.
	if err := j.Runs.PutBlob(ctx, latestBacktestRun, latestBacktestBlob, b); err != nil {
		return res, err
	}
	return res, nil
}

// dominant is the currency with the most customers (ties: alphabetical).
func dominant(counts map[string]int64) string {
	best := ""
	for _, c := range slices.Sorted(maps.Keys(counts)) {
		if best == "" || counts[c] > counts[best] {
			best = c
		}
	}
	return best
}
