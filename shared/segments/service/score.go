package service

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
)

// Tally is one worker's share of the run's summaries: per segment the
// customers, revenue and CLV (minor units) and the satisfaction of the
// latest answers, cluster sizes, churn bands and a histogram of CLV (minor
// units at three significant digits) for its quantiles. All integers, so
// tallies merge exactly. The zero value is empty.
type Tally struct {
	Customers map[string]int64 `json:"customers"`
	Revenue   map[string]int64 `json:"revenue"`
	CLV       map[string]int64 `json:"clv"`
	// PAliveMilli sums P(alive) and ChurnMilli the churn probability, in
	// thousandths, per segment.
	PAliveMilli map[string]int64 `json:"p_alive_milli"`
	ChurnMilli  map[string]int64 `json:"churn_milli,omitempty"`
	// Grid counts customers per recency and frequency score (key
	// 10·R + F), the RFM grid's cells summed over monetary scores.
	Grid     map[int]int64    `json:"rf_grid,omitempty"`
	Clusters map[int]int64    `json:"clusters"`
	Churn    map[string]int64 `json:"churn"`
	CLVHist  map[int64]int64  `json:"clv_hist"`
	// Satisfaction sums the customers' latest ratings and NPS answers per
	// segment.
	Satisfaction map[string]events.Satisfaction `json:"satisfaction,omitempty"`
	// Written and Unchanged count write-back outcomes: Unchanged records
	// already held these scores (a re-run), or scores of a later run, or
	// were erased meanwhile.
	Written   int64 `json:"written"`
	Unchanged int64 `json:"unchanged"`
	// Published counts the change events published, per detail type.
	Published map[string]int64 `json:"published,omitempty"`
}

func (t *Tally) init() {
	if t.Customers == nil {
		t.Customers, t.Revenue, t.CLV, t.PAliveMilli = map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
		t.Clusters, t.Churn, t.CLVHist = map[int]int64{}, map[string]int64{}, map[int64]int64{}
	}
	if t.Satisfaction == nil {
		t.Satisfaction = map[string]events.Satisfaction{}
	}
	if t.ChurnMilli == nil {
		t.ChurnMilli, t.Grid = map[string]int64{}, map[int]int64{}
	}
}

// Merge adds o into t.
func (t *Tally) Merge(o *Tally) {
	t.init()
	for _, pair := range [][2]map[string]int64{{t.Customers, o.Customers}, {t.Revenue, o.Revenue}, {t.CLV, o.CLV},
		{t.PAliveMilli, o.PAliveMilli}, {t.ChurnMilli, o.ChurnMilli}, {t.Churn, o.Churn}} {
		for k, v := range pair[1] {
			pair[0][k] += v
		}
	}
	for k, v := range o.Clusters {
		t.Clusters[k] += v
	}
	for k, v := range o.CLVHist {
		t.CLVHist[k] += v
	}
	for k, v := range o.Grid {
		t.Grid[k] += v
	}
	for k, v := range o.Satisfaction {
		s := t.Satisfaction[k]
		s.Merge(v)
		t.Satisfaction[k] = s
	}
	t.Written += o.Written
	t.Unchanged += o.Unchanged
	for k, v := range o.Published {
		if t.Published == nil {
			t.Published = map[string]int64{}
		}
		t.Published[k] += v
	}
}

// Score is the scoring worker: each customer's RFM cell and segment,
// cluster, P(alive), expected purchases in 30 and 90 days, churn
// probability (no purchase in the churn horizon) and its band, and
// 12-month CLV, from the run's purchase model, with the tally of what it
// decided. Every score is a function of the customer and the model alone.
func Score(cs []segments.Customer, m *Model) ([]segments.CustomerScores, *Tally, error) {
	cfg := m.Plan.Config
	pm, err := m.purchase()
	if err != nil {
		return nil, nil, err
	}
	unit := cfg.Unit.Days()
	valueOpts := clv.ValueOptions{Months: 12, MonthlyDiscount: cfg.MonthlyDiscount, UnitsPerMonth: clv.DaysPerMonth / unit}
	t := &Tally{}
	t.init()
	out := make([]segments.CustomerScores, 0, len(cs))
	asOf := m.Plan.AsOf.Format(time.DateOnly)
	for _, c := range cs {
		in := rfmInput(c)
		cell := m.Cuts.Score(in)
		seg, err := segments.SegmentOf(cell)
		if err != nil {
			return nil, nil, err
		}
		k, _ := segments.Nearest(m.point(c), m.Centroids)
		bc := clv.Customer{X: c.PurchaseDays - 1, TX: float64(c.RecencyDays) / unit, T: float64(c.AgeDays) / unit}
		s := customers.Scores{RunID: m.Plan.RunID, AsOf: asOf, Currency: cfg.Currency,
			R: cell.R, F: cell.F, M: cell.M, RFMCell: strconv.Itoa(cell.R*100 + cell.F*10 + cell.M),
			Segment: seg.Slug(), Cluster: k}
		if s.PAlive, err = pm.PAlive(bc); err != nil {
			return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
		}
		if s.ExpectedPurchases30d, err = pm.ExpectedPurchases(bc, 30/unit); err != nil {
			return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
		}
		if s.ExpectedPurchases90d, err = pm.ExpectedPurchases(bc, 90/unit); err != nil {
			return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
		}
		if s.ChurnProbability, err = pm.PNoPurchase(bc, float64(cfg.ChurnHorizonDays)/unit); err != nil {
			return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
		}
		if m.SpendIssue == nil {
			zbar := 0.0
			if bc.X > 0 {
				zbar = float64(c.RepeatSpend) / float64(bc.X) / cfg.MinorPerUnit
			}
			spend, err := m.GammaGamma.ExpectedSpend(bc.X, zbar)
			if err != nil {
				return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
			}
			v, err := clv.LifetimeValue(pm, bc, spend, valueOpts)
			if err != nil {
				return nil, nil, fmt.Errorf("score customer %s: %w", c.CustomerID, err)
			}
			s.CLV12mMinor = int64(math.Round(v * cfg.MinorPerUnit))
		}
		s.ChurnRisk = string(clv.ChurnBand(s.ChurnProbability))
		t.Customers[s.Segment]++
		t.Revenue[s.Segment] += c.TotalSpend
		t.CLV[s.Segment] += s.CLV12mMinor
		t.PAliveMilli[s.Segment] += int64(math.Round(s.PAlive * 1000))
		t.ChurnMilli[s.Segment] += int64(math.Round(s.ChurnProbability * 1000))
		t.Grid[10*cell.R+cell.F]++
		t.Clusters[k]++
		t.Churn[s.ChurnRisk]++
		t.CLVHist[segments.QuantizeMoney(s.CLV12mMinor)]++
		if c.Rating != 0 || c.NPS != "" {
			sat := t.Satisfaction[s.Segment]
			if c.Rating != 0 {
				sat.AddRating(c.Rating)
			}
			sat.AddNPS(c.NPS)
			t.Satisfaction[s.Segment] = sat
		}
		out = append(out, segments.CustomerScores{CustomerID: c.CustomerID, Scores: s})
	}
	return out, t, nil
}

// Finish is the last merge step: it assembles the run record from the
// model, the merged summarise partial's counts and the merged tally.
func Finish(m *Model, p *Partial, t *Tally) segments.Report {
	t.init()
	cfg := m.Plan.Config
	rec := segments.Report{RunID: m.Plan.RunID, AsOf: m.Plan.AsOf.Format(time.DateOnly), Currency: cfg.Currency,
		Status: "complete", Phase: "complete", Scanned: p.Scanned, Customers: p.Customers,
		SkippedNoPurchase: p.NoPurchase, SkippedOtherCurrency: p.OtherCurrency,
		KMeansIterations: m.Iteration, SampleSize: m.SampleSize, Inertia: m.Inertia, SpendIssue: m.SpendIssue,
		Written: t.Written, Unchanged: t.Unchanged, Config: cfg}
	var tally segments.SegmentTally
	for _, s := range segments.Segments {
		if n := t.Customers[s.Slug()]; n > 0 {
			tally.Customers = ensure(tally.Customers)
			tally.Revenue = ensure(tally.Revenue)
			tally.Customers[s] = n
			tally.Revenue[s] = t.Revenue[s.Slug()]
		}
	}
	sums := tally.Summaries()
	for _, s := range sums {
		sum := segments.SegmentReport{Segment: s.Segment.Slug(), Name: string(s.Segment), Customers: s.Customers, Share: s.Share,
			RevenueMinor: s.Revenue, RevenueShare: s.RevenueShare}
		if s.Customers > 0 {
			sum.AvgCLV12mMinor = int64(math.Round(float64(t.CLV[sum.Segment]) / float64(s.Customers)))
			sum.AvgPAlive = math.Round(float64(t.PAliveMilli[sum.Segment])/float64(s.Customers)) / 1000
			sum.AvgChurnProbability = math.Round(float64(t.ChurnMilli[sum.Segment])/float64(s.Customers)) / 1000
		}
		sum.SetSatisfaction(t.Satisfaction[sum.Segment])
		rec.Segments = append(rec.Segments, sum)
	}
	for k, n := range t.Grid {
		if r, f := k/10, k%10; r >= 1 && r <= 5 && f >= 1 && f <= 5 {
			rec.RFGrid[r-1][f-1] = n
		}
	}
	rec.Activity = p.Activity
	churn := map[string]int{}
	for k, v := range t.Churn {
		churn[k] = int(v)
	}
	sizes := make([]int64, m.K)
	for k, v := range t.Clusters {
		sizes[k] = v
	}
	cl := segments.ClusterRecord{K: m.K, Centroids: m.Centroids, Sizes: sizes, Silhouette: m.Silhouette,
		Candidates: m.Candidates, FeatureMean: m.Mean, FeatureStd: m.Std}
	for _, f := range segments.RFMFeatureNames {
		cl.Features = append(cl.Features, f.Name)
	}
	for _, c := range m.Centroids {
		cl.Descriptions = append(cl.Descriptions, segments.Describe(c, segments.RFMFeatureNames))
	}
	rec.Model = segments.RunRecord{AsOf: rec.AsOf, TimeUnit: cfg.Unit, Customers: int(p.Customers),
		BGNBD: m.BGNBDFit, GammaGamma: m.SpendFit, RFM: segments.RFMRecord{Cuts: m.Cuts, Segments: sums},
		Clusters: cl, CLV: clvRecord(t, cfg), ChurnRisk: churn, ChurnHorizonDays: cfg.ChurnHorizonDays,
		PurchaseModel: &m.Purchase, ModelSelection: m.Selection}
	return rec
}

func ensure(m map[segments.Segment]int64) map[segments.Segment]int64 {
	if m == nil {
		return map[segments.Segment]int64{}
	}
	return m
}

// clvRecord summarises CLV from the tally: the mean from the exact sum and
// lower nearest-rank quantiles from the histogram (three significant
// digits), in currency units.
func clvRecord(t *Tally, cfg segments.Config) segments.CLVRecord {
	rec := segments.CLVRecord{Months: 12, MonthlyDiscount: cfg.MonthlyDiscount, Quantiles: map[string]float64{}}
	var n, total int64
	for _, v := range t.CLV {
		total += v
	}
	for _, c := range t.CLVHist {
		n += c
	}
	if n == 0 {
		return rec
	}
	rec.Total = float64(total) / cfg.MinorPerUnit
	rec.Mean = rec.Total / float64(n)
	keys := slices.Sorted(maps.Keys(t.CLVHist))
	for _, q := range []struct {
		name string
		p    float64
	}{{"p10", 0.10}, {"p25", 0.25}, {"p50", 0.50}, {"p75", 0.75}, {"p90", 0.90}, {"p99", 0.99}, {"max", 1}} {
		rank := max(int64(math.Ceil(q.p*float64(n))), 1)
		var seen int64
		for _, k := range keys {
			seen += t.CLVHist[k]
			if seen >= rank {
				rec.Quantiles[q.name] = float64(k) / cfg.MinorPerUnit
				break
			}
		}
	}
	return rec
}
