package clv

import (
	"fmt"
	"math"
)

// DaysPerMonth is the length of the month used for CLV horizons: a
// Gregorian year over twelve, so twelve months are exactly one year.
const DaysPerMonth = 365.25 / 12

// ValueOptions sets how lifetime value is accumulated.
type ValueOptions struct {
	// Months is the horizon; zero means 12.
	Months int
	// MonthlyDiscount is the discount rate per month (0.01 = 1%); the
	// value of month m's purchases is divided by (1+rate)^m, as if each
	// month's spend arrived at its end.
	MonthlyDiscount float64
	// UnitsPerMonth is the length of a month in the model's time unit:
	// DaysPerMonth for a model fitted in days, DaysPerMonth/7 in weeks.
	UnitsPerMonth float64
}

func (o ValueOptions) validate() (ValueOptions, error) {
	if o.Months == 0 {
		o.Months = 12
	}
	if o.Months < 0 || o.Months > 1200 {
		return o, fmt.Errorf("%w: %d months", ErrInvalid, o.Months)
	}
	if !(o.MonthlyDiscount >= 0) || math.IsInf(o.MonthlyDiscount, 0) {
		return o, fmt.Errorf("%w: monthly discount %v", ErrInvalid, o.MonthlyDiscount)
	}
	if !(o.UnitsPerMonth > 0) || math.IsInf(o.UnitsPerMonth, 0) {
		return o, fmt.Errorf("%w: units per month %v", ErrInvalid, o.UnitsPerMonth)
	}
	return o, nil
}

// LifetimeValue returns the discounted value of the customer's expected
// purchases over the horizon, in the currency unit of spend: for each month
// m, the purchases expected in that month, E[Y(m)] - E[Y(m-1)] from the
// purchase model, times spend (normally GammaGamma.ExpectedSpend), divided
// by (1+rate)^m. It is a margin-free revenue figure; multiply by a margin
// for profit.
func LifetimeValue(m PurchaseModel, c Customer, spend float64, opts ValueOptions) (float64, error) {
	opts, err := opts.validate()
	if err != nil {
		return 0, err
	}
	if !(spend >= 0) || math.IsInf(spend, 0) {
		return 0, fmt.Errorf("%w: spend %v", ErrInvalid, spend)
	}
	if err := c.Validate(); err != nil {
		return 0, err
	}
	var value, prev float64
	for month := 1; month <= opts.Months; month++ {
		cum, err := m.ExpectedPurchases(c, float64(month)*opts.UnitsPerMonth)
		if err != nil {
			return 0, fmt.Errorf("lifetime value month %d: %w", month, err)
		}
		// Guard against rounding making a month's increment negative.
		inc := math.Max(cum-prev, 0)
		value += inc * spend / math.Pow(1+opts.MonthlyDiscount, float64(month))
		prev = cum
	}
	return value, nil
}

// ChurnRisk is a band of the churn probability, P(no purchase in the next
// ChurnHorizonDays | history), for campaign targeting.
type ChurnRisk string

// The churn-risk bands, from the churn probability P:
//
//	low       P < 0.25
//	medium    0.25 <= P < 0.50
//	high      0.50 <= P < 0.75
//	very_high P >= 0.75
//
// The 0.5 boundary is the natural "more likely to lapse than not"; 0.25
// and 0.75 split the confident ends so that a win-back campaign can target
// high without spending on customers who are almost certainly gone.
const (
	ChurnLow      ChurnRisk = "low"
	ChurnMedium   ChurnRisk = "medium"
	ChurnHigh     ChurnRisk = "high"
	ChurnVeryHigh ChurnRisk = "very_high"
)

// ChurnBand returns the churn-risk band of a churn probability.
func ChurnBand(pChurn float64) ChurnRisk {
	switch {
	case pChurn < 0.25:
		return ChurnLow
	case pChurn < 0.5:
		return ChurnMedium
	case pChurn < 0.75:
		return ChurnHigh
	}
	return ChurnVeryHigh
}
