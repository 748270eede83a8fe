package clv

import (
	"fmt"
	"math"
)

// GroupRow is one row of a conditional-expectation table: the customers
// with X repeat purchases in the calibration period, or X or more in the
// last row.
type GroupRow struct {
	X         int  `json:"x"`
	OrMore    bool `json:"or_more"`
	Customers int  `json:"customers"`
	// Predicted is the mean expected purchases in the holdout period.
	Predicted float64 `json:"predicted"`
	// Actual is the mean purchases made in the holdout period; 0 when the
	// table was built without holdout data.
	Actual float64 `json:"actual"`
}

// ConditionalTable is the conditional-expectation check of Fader, Hardie &
// Lee (2005, figure 5): customers grouped by calibration frequency, the
// model's mean prediction for the holdout period beside what they did.
type ConditionalTable struct {
	// Horizon is the length of the holdout period in the model's time unit.
	Horizon float64 `json:"horizon"`
	// Rows has one row per frequency 0, 1, ..., the last one open-ended.
	// A row with no customers has zero means.
	Rows []GroupRow `json:"rows"`
	// Predicted and Actual are totals over every customer.
	Predicted float64 `json:"predicted"`
	Actual    float64 `json:"actual"`
	// HasActual reports whether holdout purchases were given.
	HasActual bool `json:"has_actual"`
}

// ConditionalExpectationTable predicts each calibration customer's
// purchases in the next t time units with m and averages the predictions,
// and the holdout purchases when holdout is not nil (holdout[i] belongs to
// cal[i]), by calibration frequency 0, 1, ..., maxGroup-1 and maxGroup or
// more.
func ConditionalExpectationTable(m PurchaseModel, cal []Customer, holdout []float64, t float64, maxGroup int) (ConditionalTable, error) {
	if maxGroup < 0 {
		return ConditionalTable{}, fmt.Errorf("%w: last group %d", ErrInvalid, maxGroup)
	}
	if holdout != nil && len(holdout) != len(cal) {
		return ConditionalTable{}, fmt.Errorf("%w: %d holdout counts for %d customers", ErrInvalid, len(holdout), len(cal))
	}
	if err := checkHorizon(t); err != nil {
		return ConditionalTable{}, err
	}
	tab := ConditionalTable{Horizon: t, Rows: make([]GroupRow, maxGroup+1), HasActual: holdout != nil}
	for i := range tab.Rows {
		tab.Rows[i].X = i
	}
	tab.Rows[maxGroup].OrMore = true
	for i, c := range cal {
		e, err := m.ExpectedPurchases(c, t)
		if err != nil {
			return ConditionalTable{}, fmt.Errorf("conditional expectation of customer %d: %w", i, err)
		}
		row := &tab.Rows[min(c.X, maxGroup)]
		row.Customers++
		row.Predicted += e
		tab.Predicted += e
		if holdout != nil {
			h := holdout[i]
			if !(h >= 0) || math.IsInf(h, 0) {
				return ConditionalTable{}, fmt.Errorf("%w: holdout purchases %v of customer %d", ErrInvalid, h, i)
			}
			row.Actual += h
			tab.Actual += h
		}
	}
	for i := range tab.Rows {
		if n := float64(tab.Rows[i].Customers); n > 0 {
			tab.Rows[i].Predicted /= n
			tab.Rows[i].Actual /= n
		}
	}
	return tab, nil
}
