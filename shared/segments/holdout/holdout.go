// Package holdout checks the purchase and spend models against what
// customers did next: calibrate on purchases up to a day D, predict the
// period after it, and compare with the purchases of that period. It
// scores the churn probability (ROC AUC, Brier score against the
// base-rate predictor, a reliability table), the expected purchases
// (totals, deciles, mean absolute error, the conditional expectation by
// calibration frequency) and the expected spend (deciles, rank
// correlation). Pure: the caller supplies the customers and the fitted
// models.
package holdout

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"tailor/shared/segments/clv"
)

// Customer is one customer of a backtest: the calibration history as the
// models see it and what happened in the holdout period.
type Customer struct {
	ID  string
	Cal clv.Customer
	// Features is what a discriminative churn model sees (Cal included).
	Features clv.ChurnFeatures
	// MeanRepeatSpend is zbar, the mean spend of the calibration repeat
	// purchase days, in currency units; 0 without a repeat purchase.
	MeanRepeatSpend float64
	// HoldoutPurchases counts purchase days in the holdout period;
	// HoldoutSpend is their spend in currency units.
	HoldoutPurchases int
	HoldoutSpend     float64
}

// Model is what a backtest needs of a fitted purchase model.
type Model interface {
	Name() string
	// ExpectedPurchases is the expected number of purchases in the t time
	// units after the calibration period.
	ExpectedPurchases(c clv.Customer, t float64) (float64, error)
	// PNoPurchase is the probability of no purchase in those t units: the
	// churn probability.
	PNoPurchase(c clv.Customer, t float64) (float64, error)
}

// Spend is what a backtest needs of a fitted spend model.
type Spend interface {
	// ExpectedSpend is the expected spend per purchase of a customer with
	// x repeat purchases of mean spend mean.
	ExpectedSpend(x int, mean float64) (float64, error)
}

// Report is the outcome of one backtest.
type Report struct {
	Model     string  `json:"model"`
	Customers int     `json:"customers"`
	Horizon   float64 `json:"horizon"` // in the models' time unit
	Churn     Churn   `json:"churn"`
	Purchases Counts  `json:"purchases"`
	Value     Value   `json:"value"`
}

// Churn scores the churn probability: the predicted probability of no
// purchase in the horizon against whether the customer made none.
type Churn struct {
	// BaseRate is the share of customers with no holdout purchase.
	BaseRate float64 `json:"base_rate"`
	AUC      float64 `json:"auc"`
	Brier    float64 `json:"brier"`
	// BaseBrier is the Brier score of predicting BaseRate for everyone;
	// Skill is 1 − Brier/BaseBrier (0: no better than the base rate).
	BaseBrier   float64 `json:"base_brier"`
	Skill       float64 `json:"skill"`
	Reliability []Bin   `json:"reliability"`
}

// Bin is one bin of the reliability table: customers whose predicted
// probability lies in [Low, High).
type Bin struct {
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	Customers int     `json:"customers"`
	Predicted float64 `json:"mean_predicted"`
	Observed  float64 `json:"observed_rate"`
}

// Counts compares expected and actual holdout purchases.
type Counts struct {
	Predicted float64 `json:"predicted_total"`
	Actual    float64 `json:"actual_total"`
	// MAE is the mean absolute error per customer.
	MAE float64 `json:"mae"`
	// Deciles groups customers by predicted purchases, lowest first.
	Deciles []Decile `json:"deciles"`
	// ByFrequency is the conditional expectation by calibration repeat
	// purchases x = 0, 1, …, 6 and 7+ (Fader, Hardie & Lee 2005, figure 4).
	ByFrequency []Group `json:"by_frequency"`
}

// Value compares expected and actual holdout spend.
type Value struct {
	Predicted float64  `json:"predicted_total"`
	Actual    float64  `json:"actual_total"`
	Spearman  float64  `json:"spearman"`
	Deciles   []Decile `json:"deciles"`
}

// Decile is one tenth of the customers ranked by a prediction.
type Decile struct {
	Decile    int     `json:"decile"`
	Customers int     `json:"customers"`
	Predicted float64 `json:"mean_predicted"`
	Actual    float64 `json:"mean_actual"`
}

// Group is the customers with one number of calibration repeat purchases
// (the last group: that many or more).
type Group struct {
	X         int     `json:"x"`
	OrMore    bool    `json:"or_more,omitempty"`
	Customers int     `json:"customers"`
	Predicted float64 `json:"mean_predicted"`
	Actual    float64 `json:"mean_actual"`
}

// ErrNoCustomers is returned for a backtest without customers.
var ErrNoCustomers = errors.New("backtest: no customers")

// Run backtests m (and spend, which may be nil to skip the value part)
// over the customers with a holdout of horizon time units.
func Run(cs []Customer, m Model, spend Spend, horizon float64) (Report, error) {
	if len(cs) == 0 {
		return Report{}, ErrNoCustomers
	}
	if !(horizon > 0) {
		return Report{}, fmt.Errorf("backtest: horizon %v must be positive", horizon)
	}
	r := Report{Model: m.Name(), Customers: len(cs), Horizon: horizon}
	pNone := make([]float64, len(cs))
	none := make([]bool, len(cs))
	expected := make([]float64, len(cs))
	actual := make([]float64, len(cs))
	for i, c := range cs {
		p, err := churnOf(m, c, horizon)
		if err != nil {
			return r, fmt.Errorf("customer %s: %w", c.ID, err)
		}
		e, err := m.ExpectedPurchases(c.Cal, horizon)
		if err != nil {
			return r, fmt.Errorf("customer %s: %w", c.ID, err)
		}
		pNone[i], none[i], expected[i], actual[i] = p, c.HoldoutPurchases == 0, e, float64(c.HoldoutPurchases)
	}
	r.Churn = churn(pNone, none)
	r.Purchases = Counts{Predicted: sum(expected), Actual: sum(actual), MAE: mae(expected, actual),
		Deciles: Deciles(expected, actual), ByFrequency: byFrequency(cs, expected, 7)}
	if spend != nil {
		value := make([]float64, len(cs))
		spent := make([]float64, len(cs))
		for i, c := range cs {
			s, err := spend.ExpectedSpend(c.Cal.X, c.MeanRepeatSpend)
			if err != nil {
				return r, fmt.Errorf("customer %s: %w", c.ID, err)
			}
			value[i], spent[i] = expected[i]*s, c.HoldoutSpend
		}
		r.Value = Value{Predicted: sum(value), Actual: sum(spent), Spearman: Spearman(value, spent), Deciles: Deciles(value, spent)}
		if math.IsNaN(r.Value.Spearman) {
			r.Value.Spearman = 0 // a constant prediction or outcome
		}
	}
	return r, nil
}

// churnOf is the model's churn probability for c: from c's features when
// the model takes them (a Hybrid), from its history otherwise.
func churnOf(m Model, c Customer, horizon float64) (float64, error) {
	if h, ok := m.(Hybrid); ok {
		return h.Churn.PNoPurchase(c.Features, horizon)
	}
	return m.PNoPurchase(c.Cal, horizon)
}

func churn(p []float64, y []bool) Churn {
	var c Churn
	for _, v := range y {
		if v {
			c.BaseRate++
		}
	}
	c.BaseRate /= float64(len(y))
	if c.AUC = AUC(p, y); math.IsNaN(c.AUC) {
		c.AUC = 0 // one class only: no ranking to score
	}
	c.Brier = Brier(p, y)
	c.BaseBrier = c.BaseRate * (1 - c.BaseRate)
	if c.BaseBrier > 0 {
		c.Skill = 1 - c.Brier/c.BaseBrier
	}
	c.Reliability = Reliability(p, y, 10)
	return c
}

// AUC is the area under the ROC curve of scores for the positive labels:
// the probability that a random positive scores above a random negative,
// ties counting one half (the Mann-Whitney statistic, from mid-ranks).
// It is NaN when either class is empty.
func AUC(scores []float64, positive []bool) float64 {
	ranks := midRanks(scores)
	var nPos, sumPos float64
	for i, p := range positive {
		if p {
			nPos++
			sumPos += ranks[i]
		}
	}
	nNeg := float64(len(scores)) - nPos
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	return (sumPos - nPos*(nPos+1)/2) / (nPos * nNeg)
}

// Brier is the mean squared difference between the predicted probability
// and the outcome (1 when the label is true).
func Brier(p []float64, y []bool) float64 {
	var s float64
	for i, v := range p {
		o := 0.0
		if y[i] {
			o = 1
		}
		s += (v - o) * (v - o)
	}
	return s / float64(len(p))
}

// Reliability bins the predictions into n equal-width bins of [0, 1] (the
// last one closed) and gives each bin's mean prediction and observed rate.
// Empty bins are kept, with zero customers.
func Reliability(p []float64, y []bool, n int) []Bin {
	bins := make([]Bin, n)
	for i := range bins {
		bins[i].Low, bins[i].High = float64(i)/float64(n), float64(i+1)/float64(n)
	}
	for i, v := range p {
		b := min(n-1, max(0, int(v*float64(n))))
		bins[b].Customers++
		bins[b].Predicted += v
		if y[i] {
			bins[b].Observed++
		}
	}
	for i := range bins {
		if k := float64(bins[i].Customers); k > 0 {
			bins[i].Predicted /= k
			bins[i].Observed /= k
		}
	}
	return bins
}

// Deciles ranks customers by predicted (ties by index, so the grouping is
// deterministic) and gives each tenth's mean predicted and actual value,
// lowest predictions first. With fewer than ten customers some deciles
// are empty.
func Deciles(predicted, actual []float64) []Decile {
	order := make([]int, len(predicted))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(predicted[a], predicted[b]) })
	out := make([]Decile, 10)
	for d := range out {
		out[d].Decile = d + 1
		lo, hi := d*len(order)/10, (d+1)*len(order)/10
		for _, i := range order[lo:hi] {
			out[d].Predicted += predicted[i]
			out[d].Actual += actual[i]
		}
		if k := hi - lo; k > 0 {
			out[d].Customers = k
			out[d].Predicted /= float64(k)
			out[d].Actual /= float64(k)
		}
	}
	return out
}

// Spearman is the rank correlation of a and b: Pearson's correlation of
// their mid-ranks. NaN when either is constant.
func Spearman(a, b []float64) float64 {
	ra, rb := midRanks(a), midRanks(b)
	n := float64(len(a))
	mean := (n + 1) / 2
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// midRanks gives each value its 1-based rank, tied values the mean of
// their ranks.
func midRanks(v []float64) []float64 {
	order := make([]int, len(v))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
	ranks := make([]float64, len(v))
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && v[order[j]] == v[order[i]] {
			j++
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1..j
		for _, k := range order[i:j] {
			ranks[k] = r
		}
		i = j
	}
	return ranks
}

func byFrequency(cs []Customer, expected []float64, top int) []Group {
	out := make([]Group, top+1)
	for x := range out {
		out[x].X = x
	}
	out[top].OrMore = true
	for i, c := range cs {
		g := &out[min(c.Cal.X, top)]
		g.Customers++
		g.Predicted += expected[i]
		g.Actual += float64(c.HoldoutPurchases)
	}
	for x := range out {
		if k := float64(out[x].Customers); k > 0 {
			out[x].Predicted /= k
			out[x].Actual /= k
		}
	}
	return out
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

func mae(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += math.Abs(a[i] - b[i])
	}
	return s / float64(len(a))
}
