package segments

import (
	"fmt"
	"math"
	"slices"

	"tailor/shared/events"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
)

// TimeUnit is the unit the purchase models measure time in.
type TimeUnit string

// The supported units. Weeks match the published CDNOW results; days suit
// a shop whose customers buy more than weekly.
const (
	Day  TimeUnit = "day"
	Week TimeUnit = "week"
)

// Days returns the length of the unit in days, or 0 for an unknown unit.
func (u TimeUnit) Days() float64 {
	switch u {
	case Day:
		return 1
	case Week:
		return 7
	}
	return 0
}

// Customer is one customer's purchase history as of the run date, in whole
// days and minor units: what the nightly job reads from a customer record's
// aggregates, or what an offline run derives from transactions.
type Customer struct {
	CustomerID string
	// PurchaseDays counts distinct days with a purchase.
	PurchaseDays int
	// RecencyDays is t_x in days: last purchase day minus first.
	RecencyDays int
	// AgeDays is T in days: the as-of date minus the first purchase day.
	AgeDays int
	// TotalSpend and RepeatSpend (spend on the days after the first) are
	// in minor units.
	TotalSpend, RepeatSpend int64
	// Rating is the customer's latest rating given on or before the as-of
	// date (1 to 5; 0 for none) and NPS the category of the latest NPS
	// answer given by then ("" for none): what the segment summaries'
	// satisfaction counts. The models do not use them.
	Rating int
	NPS    events.NPSCategory
}

func (c Customer) validate() error {
	if c.PurchaseDays < 1 || c.RecencyDays < 0 || c.AgeDays < c.RecencyDays || c.TotalSpend < 0 ||
		c.RepeatSpend < 0 || c.RepeatSpend > c.TotalSpend || (c.PurchaseDays == 1 && (c.RecencyDays != 0 || c.RepeatSpend != 0)) {
		return fmt.Errorf("%w: customer %s: %+v", ErrInvalid, c.CustomerID, c)
	}
	return nil
}

func (c Customer) rfm() RFMInput {
	return RFMInput{CustomerID: c.CustomerID, RecencyDays: c.AgeDays - c.RecencyDays, Frequency: c.PurchaseDays, Monetary: c.TotalSpend}
}

func (c Customer) bgnbd(unitDays float64) clv.Customer {
	return clv.Customer{X: c.PurchaseDays - 1, TX: float64(c.RecencyDays) / unitDays, T: float64(c.AgeDays) / unitDays}
}

// meanRepeatSpend is zbar in currency units.
func (c Customer) meanRepeatSpend(minorPerUnit float64) float64 {
	if c.PurchaseDays < 2 {
		return 0
	}
	return float64(c.RepeatSpend) / float64(c.PurchaseDays-1) / minorPerUnit
}

// RunOptions configures a segmentation run.
type RunOptions struct {
	// AsOf is the run date, YYYY-MM-DD, recorded as given.
	AsOf string
	// Unit is the time unit of the purchase models; empty means Week.
	Unit TimeUnit
	// KMeans chooses the clusters; K and KMin/KMax zero mean k = 2..8 by
	// silhouette.
	KMeans KMeansOptions
	// MonthlyDiscount is the CLV discount rate per month; 12-month CLV.
	MonthlyDiscount float64
	// MinorPerUnit is how many minor units make one currency unit; zero
	// means 100. Spend models and CLV work in currency units.
	MinorPerUnit float64
}

// RunRecord is everything one segmentation run decided, stored as-is so
// any customer's scores can be explained later and runs can be compared.
type RunRecord struct {
	AsOf       string           `json:"as_of"`
	TimeUnit   TimeUnit         `json:"time_unit"`
	Customers  int              `json:"customers"`
	BGNBD      BGNBDRecord      `json:"bgnbd"`
	GammaGamma GammaGammaRecord `json:"gamma_gamma"`
	RFM        RFMRecord        `json:"rfm"`
	Clusters   ClusterRecord    `json:"clusters"`
	CLV        CLVRecord        `json:"clv"`
	ChurnRisk  map[string]int   `json:"churn_risk"`
	// ChurnHorizonDays is N of the churn probability P(no purchase in the
	// next N days) that ChurnRisk bands.
	ChurnHorizonDays int `json:"churn_horizon_days"`
	// PurchaseModel is the model the scores use, and ModelSelection how
	// it was chosen (absent when configured).
	PurchaseModel  *PurchaseModelRecord `json:"purchase_model,omitempty"`
	ModelSelection *holdout.Selection   `json:"model_selection,omitempty"`
}

// BGNBDRecord is the fitted BG/NBD model; Alpha is in TimeUnit.
type BGNBDRecord struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"log_likelihood"`
	Iterations    int     `json:"iterations"`
}

// GammaGammaRecord is the fitted spend model, in currency units, and how
// many customers (those with a repeat purchase) it was fitted on.
type GammaGammaRecord struct {
	P             float64 `json:"p"`
	Q             float64 `json:"q"`
	V             float64 `json:"v"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	MeanSpend     float64 `json:"population_mean_spend"`
}

// RFMRecord holds the run's cut points and segment sizes.
type RFMRecord struct {
	Cuts     RFMCuts          `json:"cut_points"`
	Segments []SegmentSummary `json:"segments"`
}

// ClusterRecord holds the chosen clustering, described in words.
type ClusterRecord struct {
	K            int         `json:"k"`
	Features     []string    `json:"features"`
	Centroids    [][]float64 `json:"centroids"`
	Sizes        []int64     `json:"sizes"`
	Descriptions []string    `json:"descriptions"`
	Silhouette   float64     `json:"silhouette"`
	Candidates   []KScore    `json:"candidates,omitempty"`
	// FeatureMean and FeatureStd standardise a new customer's features so
	// they can be assigned to a centroid between runs.
	FeatureMean []float64 `json:"feature_mean"`
	FeatureStd  []float64 `json:"feature_std"`
}

// CLVRecord summarises the distribution of 12-month CLV, in currency units.
type CLVRecord struct {
	Months          int                `json:"months"`
	MonthlyDiscount float64            `json:"monthly_discount"`
	Mean            float64            `json:"mean"`
	Total           float64            `json:"total"`
	Quantiles       map[string]float64 `json:"quantiles"`
}

// Score is what a run decides about one customer, to be written back to
// the customer record.
type Score struct {
	CustomerID string   `json:"customer_id"`
	RFM        RFMScore `json:"rfm"`
	Segment    Segment  `json:"segment"`
	Cluster    int      `json:"cluster"`
	PAlive     float64  `json:"p_alive"`
	// ChurnProbability is P(no purchase in the next clv.ChurnHorizonDays).
	ChurnProbability float64 `json:"churn_probability"`
	// ExpectedPurchases is over the next 12 months.
	ExpectedPurchases float64       `json:"expected_purchases_12m"`
	ExpectedSpend     float64       `json:"expected_spend"`
	CLV               float64       `json:"clv_12m"`
	ChurnRisk         clv.ChurnRisk `json:"churn_risk"`
}

// Run scores a whole customer base on one machine: RFM, k-means on the
// standardized log RFM features, BG/NBD and Gamma-Gamma fits, and a
// discounted 12-month CLV per customer. Each step uses the mergeable
// partials, so a fanned-out job computes the same record.
func Run(customers []Customer, opts RunOptions) (RunRecord, []Score, error) {
	if len(customers) == 0 {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w", ErrNoData)
	}
	if opts.Unit == "" {
		opts.Unit = Week
	}
	unitDays := opts.Unit.Days()
	if unitDays == 0 {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w: time unit %q", ErrInvalid, opts.Unit)
	}
	minor := opts.MinorPerUnit
	if minor == 0 {
		minor = 100
	}
	km := opts.KMeans
	if km.K == 0 && km.KMin == 0 && km.KMax == 0 {
		km.KMin, km.KMax = 2, 8
	}
	rec := RunRecord{AsOf: opts.AsOf, TimeUnit: opts.Unit, Customers: len(customers)}

	rfmIn := make([]RFMInput, len(customers))
	var bg clv.Summary
	var spend clv.SpendSummary
	for i, c := range customers {
		if err := c.validate(); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: %w", err)
		}
		rfmIn[i] = c.rfm()
		if err := bg.Add(c.bgnbd(unitDays)); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
		}
		if _, err := spend.Add(c.PurchaseDays-1, c.meanRepeatSpend(minor)); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
		}
	}

	rfm, err := RFM(rfmIn)
	if err != nil {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w", err)
	}
	rec.RFM = RFMRecord{Cuts: rfm.Cuts, Segments: rfm.Summary}

	clusters, err := clusterRFM(rfmIn, km)
	if err != nil {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w", err)
	}
	rec.Clusters = clusters.record

	bgFit, err := clv.FitBGNBD(&bg, clv.FitOptions{})
	if err != nil {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w", err)
	}
	m := bgFit.Model
	rec.BGNBD = BGNBDRecord{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, LogLikelihood: bgFit.LogLikelihood, Iterations: bgFit.Iterations}

	ggFit, err := clv.FitGammaGamma(&spend, clv.FitOptions{})
	if err != nil {
		return RunRecord{}, nil, fmt.Errorf("segment run: %w", err)
	}
	g := ggFit.Model
	rec.GammaGamma = GammaGammaRecord{P: g.P, Q: g.Q, V: g.V, LogLikelihood: ggFit.LogLikelihood, Customers: int(ggFit.Customers)}
	popMean, popErr := g.MeanSpend()
	if popErr == nil {
		rec.GammaGamma.MeanSpend = popMean
	}

	valueOpts := clv.ValueOptions{Months: 12, MonthlyDiscount: opts.MonthlyDiscount, UnitsPerMonth: clv.DaysPerMonth / unitDays}
	year := 12 * valueOpts.UnitsPerMonth
	scores := make([]Score, len(customers))
	values := make([]float64, len(customers))
	rec.ChurnRisk = map[string]int{}
	rec.ChurnHorizonDays = clv.ChurnHorizonDays
	for i, c := range customers {
		bc := c.bgnbd(unitDays)
		s := Score{CustomerID: c.CustomerID, RFM: rfm.Scores[i], Segment: rfm.Segments[i], Cluster: clusters.assign[i]}
		if s.PAlive, err = m.PAlive(bc); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
		}
		if s.ExpectedPurchases, err = m.ExpectedPurchases(bc, year); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
		}
		// With q <= 1 the spend model has no mean; CLV is then left at 0
		// rather than invented, and the record's mean spend says why.
		if popErr == nil {
			if s.ExpectedSpend, err = g.ExpectedSpend(bc.X, c.meanRepeatSpend(minor)); err != nil {
				return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
			}
			if s.CLV, err = clv.LifetimeValue(m, bc, s.ExpectedSpend, valueOpts); err != nil {
				return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
			}
		}
		if s.ChurnProbability, err = m.PNoPurchase(bc, clv.ChurnHorizonDays/unitDays); err != nil {
			return RunRecord{}, nil, fmt.Errorf("segment run: customer %s: %w", c.CustomerID, err)
		}
		s.ChurnRisk = clv.ChurnBand(s.ChurnProbability)
		rec.ChurnRisk[string(s.ChurnRisk)]++
		scores[i] = s
		values[i] = s.CLV
	}
	rec.CLV = clvRecord(values, valueOpts)
	return rec, scores, nil
}

type clusterResult struct {
	record ClusterRecord
	assign []int
}

// clusterRFM standardizes the log RFM features and clusters them.
func clusterRFM(in []RFMInput, opts KMeansOptions) (clusterResult, error) {
	points := make([][]float64, len(in))
	var mom Moments
	for i, c := range in {
		points[i] = RFMFeatures(c)
		mom.Add(points[i])
	}
	std := mom.Std()
	for _, p := range points {
		mom.Standardize(p, std)
	}
	cl, scores, err := Cluster(points, opts)
	if err != nil {
		return clusterResult{}, fmt.Errorf("clusters: %w", err)
	}
	rec := ClusterRecord{
		K: cl.K, Centroids: cl.Centroids, Sizes: cl.Sizes, Silhouette: cl.Silhouette,
		FeatureMean: mom.Mean, FeatureStd: std,
	}
	if len(scores) > 1 {
		rec.Candidates = scores
	}
	for _, f := range RFMFeatureNames {
		rec.Features = append(rec.Features, f.Name)
	}
	for _, c := range cl.Centroids {
		rec.Descriptions = append(rec.Descriptions, Describe(c, RFMFeatureNames))
	}
	return clusterResult{record: rec, assign: cl.Assign}, nil
}

// clvRecord summarises CLVs with lower nearest-rank quantiles.
func clvRecord(values []float64, opts clv.ValueOptions) CLVRecord {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	rec := CLVRecord{Months: opts.Months, MonthlyDiscount: opts.MonthlyDiscount, Quantiles: map[string]float64{}}
	for _, v := range sorted {
		rec.Total += v
	}
	n := len(sorted)
	if n == 0 {
		return rec
	}
	rec.Mean = rec.Total / float64(n)
	for _, q := range []struct {
		name string
		p    float64
	}{{"p10", 0.10}, {"p25", 0.25}, {"p50", 0.50}, {"p75", 0.75}, {"p90", 0.90}, {"p99", 0.99}, {"max", 1}} {
		rank := int(math.Ceil(q.p * float64(n)))
		rec.Quantiles[q.name] = sorted[max(rank, 1)-1]
	}
	return rec
}
