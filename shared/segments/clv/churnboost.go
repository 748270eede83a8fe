package clv

import (
	"fmt"
	"math"
)

// ModelBoost is the name of the boosted churn model among the models.
const ModelBoost = "boost"

// ChurnBoostPriorWeight is the weight of the purchase model's log-odds in
// the boosted model's churn probability (the trees' is one minus it):
// chosen on windows inside the calibration period, where equal weights
// scored as well as any (docs/segmentation.md).
const ChurnBoostPriorWeight = 0.5

// PurchaseDay is one day with a purchase in a customer's history.
type PurchaseDay struct {
	// Ago is how long before the calibration end the day was, in the
	// data's time unit (0: on the end day).
	Ago float64
	// Spend is the day's spend in currency units.
	Spend float64
}

// ChurnWindow is one training window of the boosted churn model: the
// customers as of a past end, whether each made no purchase in the
// horizon after it, and the purchase model fitted as of that end.
type ChurnWindow struct {
	Customers []ChurnFeatures
	None      []bool
	Prior     PurchaseModel
}

// ChurnBoost is a discriminative churn model: gradient-boosted trees of
// "no purchase in the next Horizon time units" on features of a
// customer's purchase days, trained on windows stacked from the past, its
// log-odds averaged with a purchase model's. Like ChurnLogit it answers
// only for the horizon it was trained on.
type ChurnBoost struct {
	Horizon float64 `json:"horizon"`
	// PriorWeight is the weight of Prior's log-odds in the churn
	// probability; the trees have 1 − PriorWeight.
	PriorWeight float64 `json:"prior_weight"`
	Trees       Boosted `json:"trees"`
	// Prior is the purchase model fitted as of the customers'
	// calibration end: its churn probability and expected purchases are
	// features, and its log-odds are blended in. It is not stored; whoever
	// predicts fits it as of their own end.
	Prior PurchaseModel `json:"-"`
}

// boostFeatureCount is len(boostFeatures(…)).
const boostFeatureCount = 19

// boostFeatures are the trees' inputs, with time in the data's unit and
// windows as fractions of the horizon h: time since the last purchase and
// since the first, purchase days, purchase days in the last h/3, 2h/3, h
// and 2h, the mean gap between purchase days, its coefficient of
// variation, how overdue the customer is (time since the last ÷ mean gap),
// the last gap, the number of h/3-long periods with a purchase, mean,
// total, last and last-horizon spend, the purchase rate, and the prior's
// P(no purchase in h) and expected purchases. A feature that needs two
// purchase days is −1 without them; trees split it off.
func boostFeatures(f ChurnFeatures, h float64, prior PurchaseModel) ([]float64, error) {
	ds := f.Days
	n := len(ds)
	recency, age := ds[n-1].Ago, ds[0].Ago
	var within [4]float64
	var total, recent float64
	periods := map[int]bool{}
	for _, d := range ds {
		for k, w := range []float64{h / 3, 2 * h / 3, h, 2 * h} {
			if d.Ago < w {
				within[k]++
			}
		}
		total += d.Spend
		if d.Ago < h {
			recent += d.Spend
		}
		periods[int(d.Ago/(h/3))] = true
	}
	meanGap, cvGap, overdue, lastGap := -1.0, -1.0, -1.0, -1.0
	if n > 1 {
		meanGap = (age - recency) / float64(n-1)
		var ss float64
		for i := 1; i < n; i++ {
			g := ds[i-1].Ago - ds[i].Ago - meanGap
			ss += g * g
		}
		cvGap = math.Sqrt(ss/float64(n-1)) / meanGap
		overdue = recency / meanGap
		lastGap = ds[n-2].Ago - ds[n-1].Ago
	}
	pNone, err := prior.PNoPurchase(f.Customer, h)
	if err != nil {
		return nil, err
	}
	expected, err := prior.ExpectedPurchases(f.Customer, h)
	if err != nil {
		return nil, err
	}
	return []float64{recency, age, float64(n), within[0], within[1], within[2], within[3],
		meanGap, cvGap, overdue, lastGap, float64(len(periods)),
		total / float64(n), total, ds[n-1].Spend, recent, float64(n) / (age + h/3),
		pNone, expected}, nil
}

// validateDays checks that f's purchase days are the history its
// Customer summarises: X+1 days, oldest first, the first T ago and the
// last T − t_x ago.
func (f ChurnFeatures) validateDays() error {
	ds, c := f.Days, f.Customer
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b)) }
	if len(ds) != c.X+1 || !close(ds[0].Ago, c.T) || !close(ds[len(ds)-1].Ago, c.T-c.TX) {
		return fmt.Errorf("%w: %d purchase days for a customer %+v", ErrInvalid, len(ds), c)
	}
	for i, d := range ds {
		if !(d.Ago >= 0) || !finite(d.Ago) || !finite(d.Spend) || i > 0 && !(d.Ago < ds[i-1].Ago) {
			return fmt.Errorf("%w: purchase day %d %+v", ErrInvalid, i, d)
		}
	}
	return nil
}

// FitChurnBoost fits the trees on the customers of every window, each
// window's features taken with its own prior, and returns the model with
// weight ChurnBoostPriorWeight on the prior and no Prior set: set it to
// the purchase model fitted as of the end the model will predict from.
func FitChurnBoost(ws []ChurnWindow, horizon float64, cfg BoostConfig) (ChurnBoost, error) {
	if !(horizon > 0) {
		return ChurnBoost{}, fmt.Errorf("%w: horizon %v", ErrInvalid, horizon)
	}
	var x [][]float64
	var y []bool
	for wi, w := range ws {
		if len(w.Customers) != len(w.None) || w.Prior == nil {
			return ChurnBoost{}, fmt.Errorf("%w: window %d has %d customers, %d outcomes, prior %v", ErrInvalid, wi, len(w.Customers), len(w.None), w.Prior)
		}
		for i, c := range w.Customers {
			if err := c.validate(); err != nil {
				return ChurnBoost{}, err
			}
			if err := c.validateDays(); err != nil {
				return ChurnBoost{}, err
			}
			row, err := boostFeatures(c, horizon, w.Prior)
			if err != nil {
				return ChurnBoost{}, fmt.Errorf("window %d: %w", wi, err)
			}
			x, y = append(x, row), append(y, w.None[i])
		}
	}
	trees, err := FitBoosted(x, y, cfg)
	if err != nil {
		return ChurnBoost{}, fmt.Errorf("fit churn boost: %w", err)
	}
	return ChurnBoost{Horizon: horizon, PriorWeight: ChurnBoostPriorWeight, Trees: trees}, nil
}

// PNoPurchase returns the probability of no purchase in the next t time
// units; t must be the horizon the model was trained for, and c must
// carry its purchase days.
func (m ChurnBoost) PNoPurchase(c ChurnFeatures, t float64) (float64, error) {
	if math.Abs(t-m.Horizon) > 1e-9*max(1, m.Horizon) {
		return 0, fmt.Errorf("%w: trained for %v, asked for %v", ErrHorizon, m.Horizon, t)
	}
	if m.Prior == nil || !(m.PriorWeight >= 0 && m.PriorWeight <= 1) {
		return 0, fmt.Errorf("%w: churn boost with prior %v, weight %v", ErrInvalid, m.Prior, m.PriorWeight)
	}
	if err := c.validate(); err != nil {
		return 0, err
	}
	if err := c.validateDays(); err != nil {
		return 0, err
	}
	if err := m.Trees.validate(boostFeatureCount); err != nil {
		return 0, err
	}
	x, err := boostFeatures(c, t, m.Prior)
	if err != nil {
		return 0, err
	}
	// The prior's log-odds, kept finite for a prior of 0 or 1.
	p := min(max(x[boostFeatureCount-2], 1e-9), 1-1e-9)
	return sigmoid(m.PriorWeight*math.Log(p/(1-p)) + (1-m.PriorWeight)*m.Trees.LogOdds(x)), nil
}
