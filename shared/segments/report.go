package segments

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/segments/clv"
)

// Config is the nightly run's configuration; the zero value of each field
// means the default given.
type Config struct {
	// Currency is the one currency scored: an ISO 4217 code, or AutoCurrency
	// (the default) for the currency with the most customers who bought on
	// or before the as-of date. Customers with purchases only in other
	// currencies are counted and left out; amounts are never converted.
	Currency string `json:"currency"`
	// Unit is the purchase models' time unit (default week).
	Unit TimeUnit `json:"time_unit"`
	// MinorPerUnit is minor units per currency unit (default 100).
	MinorPerUnit float64 `json:"minor_per_unit"`
	// MonthlyDiscount is the CLV discount rate per month (default 0.01).
	MonthlyDiscount float64 `json:"monthly_discount"`
	// K fixes the number of clusters; otherwise k is chosen in KMin..KMax
	// (default 2..8) by mean silhouette on the sample.
	K    int `json:"k,omitempty"`
	KMin int `json:"k_min"`
	KMax int `json:"k_max"`
	// Seed feeds k-means++ on the sample (default 1).
	Seed uint64 `json:"seed"`
	// MaxIterations caps the Lloyd iterations over all customers (default
	// 100).
	MaxIterations int `json:"max_iterations"`
	// SampleSize is the k-means seeding sample (default 5000).
	SampleSize int `json:"sample_size"`
	// Segments is the number of parallel scan segments, i.e. workers
	// (default 8).
	Segments int `json:"segments"`
	// PurchaseModel is "auto" (the default: each run chooses among the
	// purchase models by SelectPurchaseModel) or a clv.ModelNames() name.
	PurchaseModel string `json:"purchase_model"`
	// ChurnHorizonDays is N of the churn probability P(no purchase in the
	// next N days), and the horizon of the model selection (default 90).
	ChurnHorizonDays int `json:"churn_horizon_days"`
}

// AutoCurrency is the Config.Currency that has each run score its
// dominant currency.
const AutoCurrency = "auto"

// How a run's currency was chosen (Report.CurrencyChoice).
const (
	// CurrencyConfigured: Config.Currency named it.
	CurrencyConfigured = "configured"
	// CurrencyDominant: Config.Currency is AutoCurrency and it is the
	// currency with the most customers who bought in it on or before the
	// as-of date; of currencies with as many, the first in alphabetical
	// order.
	CurrencyDominant = "dominant"
)

// WithDefaults fills in the defaults.
func (c Config) WithDefaults() Config {
	if c.Currency == "" {
		c.Currency = AutoCurrency
	}
	if c.Unit == "" {
		c.Unit = Week
	}
	if c.PurchaseModel == "" {
		c.PurchaseModel = AutoModel
	}
	if c.ChurnHorizonDays == 0 {
		c.ChurnHorizonDays = clv.ChurnHorizonDays
	}
	if c.MinorPerUnit == 0 {
		c.MinorPerUnit = 100
	}
	if c.MonthlyDiscount == 0 {
		c.MonthlyDiscount = 0.01
	}
	if c.K == 0 && c.KMin == 0 && c.KMax == 0 {
		c.KMin, c.KMax = 2, 8
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MaxIterations == 0 {
		c.MaxIterations = 100
	}
	if c.SampleSize == 0 {
		c.SampleSize = 5000
	}
	if c.Segments == 0 {
		c.Segments = 8
	}
	return c
}

// SegmentReport describes one RFM segment of a nightly run.
type SegmentReport struct {
	Segment      string  `json:"segment"`
	Name         string  `json:"name"`
	Customers    int64   `json:"customers"`
	Share        float64 `json:"share"`
	RevenueMinor int64   `json:"revenue_minor"`
	RevenueShare float64 `json:"revenue_share"`
	// AvgCLV12mMinor is the mean 12-month CLV, minor units, rounded.
	AvgCLV12mMinor int64   `json:"avg_clv_12m_minor"`
	AvgPAlive      float64 `json:"avg_p_alive"`
	// AvgChurnProbability is the mean probability of no purchase in the
	// run's churn horizon, three decimals.
	AvgChurnProbability float64 `json:"avg_churn_probability"`
	// Rated counts the segment's customers with a rating and MeanRating is
	// the mean of their latest ratings (1 to 5, two decimals; null when
	// none rated). NPSRespondents counts those with an NPS answer and NPS
	// is the percentage of promoters minus that of detractors among their
	// latest answers (-100 to 100, one decimal; null when none answered).
	// Each customer counts once, with the latest answer given on or before
	// the run's as-of date.
	Rated          int64    `json:"rated"`
	MeanRating     *float64 `json:"mean_rating"`
	NPSRespondents int64    `json:"nps_respondents"`
	NPS            *float64 `json:"nps"`
}

// SetSatisfaction fills the satisfaction fields of r from the summed
// latest answers of its customers.
func (r *SegmentReport) SetSatisfaction(s events.Satisfaction) {
	r.Rated, r.NPSRespondents = s.Ratings, s.NPSAnswers()
	r.MeanRating, r.NPS = nil, nil
	if v, ok := s.MeanRating(); ok {
		r.MeanRating = &v
	}
	if v, ok := s.NPS(); ok {
		r.NPS = &v
	}
}

// SortReports puts segment reports in report order (the order of
// Segments); reports of slugs no segment has go last, by slug.
func SortReports(reps []SegmentReport) {
	rank := func(slug string) int {
		for i, s := range Segments {
			if s.Slug() == slug {
				return i
			}
		}
		return len(Segments)
	}
	slices.SortStableFunc(reps, func(a, b SegmentReport) int {
		if c := cmp.Compare(rank(a.Segment), rank(b.Segment)); c != 0 {
			return c
		}
		return strings.Compare(a.Segment, b.Segment)
	})
}

// Report is everything a nightly run decided and did, stored in the models
// table and served by GET /v1/segments/runs/{id}. It holds no customer ids.
type Report struct {
	RunID string `json:"run_id"`
	// AsOf is the run date, YYYY-MM-DD: purchases on it count, and T is
	// measured to it.
	AsOf string `json:"as_of"`
	// Currency is the currency scored ("" while a run of AutoCurrency has
	// not chosen yet); CurrencyChoice says how it was chosen
	// (CurrencyConfigured or CurrencyDominant); CurrencyCustomers counts,
	// per currency seen, the customers with a purchase in it on or before
	// the as-of date (a customer who bought in two currencies counts in
	// both). Customers without a purchase in Currency are
	// SkippedOtherCurrency.
	Currency          string           `json:"currency"`
	CurrencyChoice    string           `json:"currency_choice,omitempty"`
	CurrencyCustomers map[string]int64 `json:"currency_customers,omitempty"`
	// Status is "running", "complete" or "failed"; Phase the last phase
	// finished (planned, summarised, fitted, clustered, scored, complete).
	Status string `json:"status"`
	Phase  string `json:"phase"`
	Mode   string `json:"mode"`
	// Scanned customer records; Customers scored; the rest skipped by
	// reason.
	Scanned              int64 `json:"scanned"`
	Customers            int64 `json:"customers"`
	SkippedNoPurchase    int64 `json:"skipped_no_purchase"`
	SkippedOtherCurrency int64 `json:"skipped_other_currency"`
	// Model holds the cut points, segment sizes, model parameters and
	// log-likelihoods, clusters, CLV distribution (currency units) and
	// churn bands.
	Model    RunRecord       `json:"model"`
	Segments []SegmentReport `json:"segments"`
	// RFGrid counts the scored customers per recency score (first index,
	// R−1) and frequency score (second index, F−1).
	RFGrid [5][5]int64 `json:"rf_grid"`
	// Activity is the shop's recent buying, from every record scanned.
	Activity *Activity `json:"activity,omitempty"`
	// KMeansIterations over all customers after seeding on SampleSize.
	KMeansIterations int     `json:"kmeans_iterations"`
	SampleSize       int     `json:"kmeans_sample_size"`
	Inertia          float64 `json:"kmeans_inertia"`
	// SpendIssue says why the run has no spend model (CLV is then 0).
	SpendIssue *SpendIssue `json:"spend_model_error,omitempty"`
	Written    int64       `json:"written"`
	Unchanged  int64       `json:"unchanged"`
	// Config is the run's configuration as given: its Currency is
	// AutoCurrency when the run chose the dominant one.
	Config     Config `json:"config"`
	StartedAt  string `json:"started_at,omitempty"`
	FinishedAt string `json:"finished_at,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// SpendIssue says, with a stable code and a fixed message, why a run could
// not fit or use the Gamma-Gamma spend model. It never carries the text of
// the fitting library's error: that goes to the log.
type SpendIssue struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// The codes of SpendIssue.
const (
	SpendTooFewRepeatBuyers = "too_few_repeat_buyers"
	SpendNoFiniteMean       = "no_finite_mean_spend"
	SpendNotConverged       = "not_converged"
	SpendFitFailed          = "fit_failed"
)

// SpendIssueOf classifies an error of fitting or using the spend model.
func SpendIssueOf(err error) *SpendIssue {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, clv.ErrNoData):
		return &SpendIssue{Code: SpendTooFewRepeatBuyers, Message: "too few customers with a repeat purchase to fit the spend model; CLV is 0"}
	case errors.Is(err, clv.ErrNoMeanSpend):
		return &SpendIssue{Code: SpendNoFiniteMean, Message: "the fitted spend model has no finite mean spend (q <= 1); CLV is 0"}
	case errors.Is(err, clv.ErrNotConverged):
		return &SpendIssue{Code: SpendNotConverged, Message: "the spend model's maximum-likelihood fit did not converge; CLV is 0"}
	}
	return &SpendIssue{Code: SpendFitFailed, Message: "the spend model could not be fitted; CLV is 0"}
}

// ActivityDays is how many days, ending on the as-of date, Activity
// describes day by day.
const ActivityDays = 90

// Activity is the shop's buying as the customer records show it on a run's
// as-of date, over every currency: customers who bought in the last 30 and
// 90 days (ending on the as-of date, which counts), revenue per currency
// (purchases on or before the as-of date, refunds not netted) and, for
// each of the last ActivityDays days with an event, the events, the
// customers who bought and what they spent. Amounts are minor units and never
// converted.
type Activity struct {
	Buyers30d int64            `json:"buyers_30d"`
	Buyers90d int64            `json:"buyers_90d"`
	Revenue   map[string]int64 `json:"revenue_minor"`
	Days      []DayActivity    `json:"days"`
}

// DayActivity is one day of Activity.
type DayActivity struct {
	Date string `json:"date"`
	// Events counts every event of the day, by shoppers and about them.
	Events  int64            `json:"events"`
	Buyers  int64            `json:"buyers"`
	Revenue map[string]int64 `json:"revenue_minor"`
}

// AddCustomer adds one customer's purchase days (date → amount per
// currency) and events per day as of asOf (YYYY-MM-DD).
func (a *Activity) AddCustomer(days map[string]customers.Amounts, eventDays map[string]int64, asOf time.Time) {
	if a.Revenue == nil {
		a.Revenue = map[string]int64{}
	}
	end := asOf.Format(time.DateOnly)
	from30 := asOf.AddDate(0, 0, -29).Format(time.DateOnly)
	from90 := asOf.AddDate(0, 0, -(ActivityDays - 1)).Format(time.DateOnly)
	var in30, in90 bool
	for day, amounts := range days {
		if day > end {
			continue
		}
		for cur, v := range amounts {
			a.Revenue[cur] += v
		}
		if day < from90 {
			continue
		}
		in90 = true
		in30 = in30 || day >= from30
		a.addDay(DayActivity{Date: day, Buyers: 1, Revenue: amounts})
	}
	for day, n := range eventDays {
		if day >= from90 && day <= end {
			a.addDay(DayActivity{Date: day, Events: n})
		}
	}
	if in30 {
		a.Buyers30d++
	}
	if in90 {
		a.Buyers90d++
	}
}

// addDay adds d into the day of the same date, keeping Days sorted.
func (a *Activity) addDay(d DayActivity) {
	i, found := slices.BinarySearchFunc(a.Days, d.Date, func(x DayActivity, date string) int { return strings.Compare(x.Date, date) })
	if !found {
		a.Days = slices.Insert(a.Days, i, DayActivity{Date: d.Date, Revenue: map[string]int64{}})
	}
	a.Days[i].Buyers += d.Buyers
	a.Days[i].Events += d.Events
	for cur, v := range d.Revenue {
		a.Days[i].Revenue[cur] += v
	}
}

// Merge adds o into a.
func (a *Activity) Merge(o *Activity) {
	if o == nil {
		return
	}
	if a.Revenue == nil {
		a.Revenue = map[string]int64{}
	}
	a.Buyers30d += o.Buyers30d
	a.Buyers90d += o.Buyers90d
	for cur, v := range o.Revenue {
		a.Revenue[cur] += v
	}
	for _, d := range o.Days {
		a.addDay(d)
	}
}
