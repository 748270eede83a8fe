package service

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"tailor/shared/segments"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
)

// Plan is one run: its id, date and configuration.
type Plan struct {
	RunID  string          `json:"run_id"`
	AsOf   time.Time       `json:"as_of"`
	Config segments.Config `json:"config"`
}

// NewPlan plans a run as of asOf (normalised with AsOfDate).
func NewPlan(asOf time.Time, cfg segments.Config) (Plan, error) {
	cfg = cfg.WithDefaults()
	if cfg.Unit.Days() == 0 {
		return Plan{}, fmt.Errorf("plan: %w: time unit %q", segments.ErrInvalid, cfg.Unit)
	}
	if cfg.Segments < 1 || cfg.Segments > 1000 {
		return Plan{}, fmt.Errorf("plan: %w: %d scan segments", segments.ErrInvalid, cfg.Segments)
	}
	if cfg.PurchaseModel != segments.AutoModel && !slices.Contains(clv.ModelNames(), cfg.PurchaseModel) {
		return Plan{}, fmt.Errorf("plan: %w: purchase model %q (want auto or one of %v)", segments.ErrInvalid, cfg.PurchaseModel, clv.ModelNames())
	}
	if cfg.ChurnHorizonDays < 1 || cfg.ChurnHorizonDays > 3650 {
		return Plan{}, fmt.Errorf("plan: %w: churn horizon %d days", segments.ErrInvalid, cfg.ChurnHorizonDays)
	}
	d := AsOfDate(asOf)
	return Plan{RunID: RunID(d), AsOf: d, Config: cfg}, nil
}

// fixedScale is the fixed-point scale of the k-means sums: 2^30 keeps
// nine decimal digits of each standardized coordinate, and int64 sums do
// not overflow below about 4·10^8 customers at |z| <= 20. Integer sums
// are what make the centroids independent of how customers are split.
const fixedScale = 1 << 30

// Model is what the merge step decided: global statistics, fitted models
// and the k-means state. It is small and travels between steps.
type Model struct {
	Plan      Plan             `json:"plan"`
	Customers int64            `json:"customers"`
	Cuts      segments.RFMCuts `json:"cuts"`
	// Mean and Std standardise the clustering features (log1p of recency
	// days, frequency and quantised monetary).
	Mean     []float64            `json:"feature_mean"`
	Std      []float64            `json:"feature_std"`
	BGNBD    clv.BGNBD            `json:"bgnbd"`
	BGNBDFit segments.BGNBDRecord `json:"bgnbd_fit"`
	// Purchase is the purchase model the scores use: the one chosen by
	// evidence (Selection) or configured; BG/NBD is always fitted too, for
	// the run record.
	Purchase   segments.PurchaseModelRecord `json:"purchase"`
	Selection  *holdout.Selection           `json:"selection,omitempty"`
	GammaGamma clv.GammaGamma               `json:"gamma_gamma"`
	SpendFit   segments.GammaGammaRecord    `json:"gamma_gamma_fit"`
	// SpendIssue says why there is no spend model (CLV is then 0);
	// SpendCause is the fitting library's own error behind it, for the log
	// of the step that fitted, and is not kept between steps.
	SpendIssue *segments.SpendIssue `json:"spend_issue,omitempty"`
	SpendCause error                `json:"-"`
	// K, Centroids and Prev are the k-means state; Prev is nil before the
	// first assignment step.
	K          int               `json:"k"`
	Centroids  [][]float64       `json:"centroids"`
	Prev       [][]float64       `json:"prev_centroids,omitempty"`
	Iteration  int               `json:"iteration"`
	Done       bool              `json:"done"`
	Sizes      []int64           `json:"sizes,omitempty"`
	Inertia    float64           `json:"inertia"`
	Candidates []segments.KScore `json:"candidates,omitempty"`
	Silhouette float64           `json:"sample_silhouette"`
	SampleSize int               `json:"sample_size"`
}

// feature returns the standardized clustering features of an RFM value
// triple (monetary already quantised).
func (m *Model) feature(r, f, mon int64) []float64 {
	x := segments.RFMFeatures(segments.RFMInput{RecencyDays: int(r), Frequency: int(f), Monetary: mon})
	for j := range x {
		x[j] = (x[j] - m.Mean[j]) / m.Std[j]
	}
	return x
}

func (m *Model) point(c segments.Customer) []float64 {
	in := rfmInput(c)
	return m.feature(int64(in.RecencyDays), int64(in.Frequency), segments.QuantizeMoney(in.Monetary))
}

// moments returns the mean and population standard deviation of log1p of
// a histogram's values, summed in key order so the result is the same for
// any split; a constant feature gets std 1.
func moments(h map[int64]int64) (mean, std float64) {
	keys := slices.Sorted(maps.Keys(h))
	var n float64
	for _, k := range keys {
		n += float64(h[k])
		mean += float64(h[k]) * math.Log1p(float64(k))
	}
	mean /= n
	var ss float64
	for _, k := range keys {
		d := math.Log1p(float64(k)) - mean
		ss += float64(h[k]) * d * d
	}
	std = 1
	if ss > 0 {
		std = math.Sqrt(ss / n)
	}
	return mean, std
}

// selectionBudget bounds each candidate's fit in a model selection: a
// model that cannot fit the data in that time loses rather than holding up
// the run.
const selectionBudget = 20 * time.Second

// innerObservations are the merged partial's selection groups in the
// model's time unit.
func innerObservations(p *Partial, unit float64) []segments.InnerObservation {
	out := make([]segments.InnerObservation, 0, len(p.Inner))
	for _, k := range slices.SortedFunc(maps.Keys(p.Inner), func(a, b InnerKey) int {
		return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.TX, b.TX), cmp.Compare(a.T, b.T), cmpBool(a.None, b.None))
	}) {
		out = append(out, segments.InnerObservation{Customer: clv.Customer{X: int(k.X), TX: float64(k.TX) / unit, T: float64(k.T) / unit},
			None: k.None, Weight: float64(p.Inner[k])})
	}
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// purchase is the fitted purchase model the scores use.
func (m *Model) purchase() (clv.PurchaseModel, error) { return m.Purchase.Model() }

// Fit is the merge step after summarise: from the merged partial it takes
// the RFM cut points, the feature moments, the BG/NBD and Gamma-Gamma
// maximum-likelihood fits, and k-means on the sample (k by silhouette,
// k-means++ seeding) whose centroids seed the Lloyd iterations over every
// customer.
func Fit(p *Partial, plan Plan) (*Model, error) {
	cfg := plan.Config
	if p.Customers == 0 {
		return nil, fmt.Errorf("fit: %w", segments.ErrNoData)
	}
	m := &Model{Plan: plan, Customers: p.Customers}

	var rfm segments.RFMPartial
	for _, pair := range []struct {
		h   *segments.Histogram
		src map[int64]int64
	}{{&rfm.Recency, p.Recency}, {&rfm.Frequency, p.Frequency}, {&rfm.Monetary, p.Monetary}} {
		for _, k := range slices.Sorted(maps.Keys(pair.src)) {
			for range pair.src[k] {
				pair.h.Add(k)
			}
		}
	}
	cuts, err := rfm.Cuts()
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	m.Cuts = cuts
	for _, h := range []map[int64]int64{p.Recency, p.Frequency, p.Monetary} {
		mean, std := moments(h)
		m.Mean, m.Std = append(m.Mean, mean), append(m.Std, std)
	}

	unit := cfg.Unit.Days()
	var bg clv.Summary
	for k, n := range p.Purchases {
		c := clv.Customer{X: int(k.X), TX: float64(k.TX) / unit, T: float64(k.T) / unit}
		if err := bg.AddN(c, float64(n)); err != nil {
			return nil, fmt.Errorf("fit: purchases %+v: %w", k, err)
		}
	}
	bgFit, err := clv.FitBGNBD(&bg, clv.FitOptions{})
	if err != nil {
		return nil, fmt.Errorf("fit BG/NBD: %w", err)
	}
	m.BGNBD = bgFit.Model
	m.BGNBDFit = segments.BGNBDRecord{R: bgFit.Model.R, Alpha: bgFit.Model.Alpha, A: bgFit.Model.A, B: bgFit.Model.B,
		LogLikelihood: bgFit.LogLikelihood, Iterations: bgFit.Iterations}
	name := cfg.PurchaseModel
	if name == segments.AutoModel {
		sel, err := segments.SelectPurchaseModel(innerObservations(p, unit), float64(cfg.ChurnHorizonDays)/unit, clv.FitOptions{MaxDuration: selectionBudget})
		switch {
		case err == nil:
			m.Selection, name = &sel, sel.Model
		default:
			// Too little history a horizon back (a young shop): BG/NBD,
			// and the record says why.
			m.Selection, name = &holdout.Selection{Model: clv.ModelBGNBD, Rule: "no selection: " + err.Error()}, clv.ModelBGNBD
		}
	}
	pm, ll, err := clv.FitModel(name, &bg, clv.FitOptions{})
	if err != nil {
		return nil, fmt.Errorf("fit %s: %w", name, err)
	}
	if m.Purchase, err = segments.RecordPurchaseModel(pm, ll); err != nil {
		return nil, err
	}

	var spend clv.SpendSummary
	for k, n := range p.Spend {
		mean := float64(k.RepeatMinor) / float64(k.X) / cfg.MinorPerUnit
		for range n {
			if _, err := spend.Add(int(k.X), mean); err != nil {
				return nil, fmt.Errorf("fit: spend %+v: %w", k, err)
			}
		}
	}
	ggFit, err := clv.FitGammaGamma(&spend, clv.FitOptions{})
	switch {
	case err != nil:
		// No spend model (too few repeat buyers, or no fit): scores keep
		// P(alive) and expected purchases, CLV is 0, and the report says
		// why.
		m.SpendIssue, m.SpendCause = segments.SpendIssueOf(err), err
	default:
		m.GammaGamma = ggFit.Model
		m.SpendFit = segments.GammaGammaRecord{P: ggFit.Model.P, Q: ggFit.Model.Q, V: ggFit.Model.V,
			LogLikelihood: ggFit.LogLikelihood, Customers: int(ggFit.Customers)}
		if mean, err := ggFit.Model.MeanSpend(); err == nil {
			m.SpendFit.MeanSpend = mean
		} else {
			m.SpendIssue, m.SpendCause = segments.SpendIssueOf(err), err
		}
	}

	points := make([][]float64, len(p.Sample))
	for i, s := range p.Sample {
		points[i] = m.feature(s.Recency, s.Frequency, s.Monetary)
	}
	m.SampleSize = len(points)
	opts := segments.KMeansOptions{K: cfg.K, KMin: cfg.KMin, KMax: cfg.KMax, Seed: cfg.Seed}
	if opts.K > len(points) {
		opts.K = len(points)
	}
	if opts.KMax > len(points) {
		opts.KMax = len(points)
	}
	if opts.KMin > opts.KMax {
		opts.KMin = opts.KMax
	}
	if opts.K == 0 && opts.KMax < 2 {
		opts.K = 1
	}
	cl, scores, err := segments.Cluster(points, opts)
	if err != nil {
		return nil, fmt.Errorf("fit: seed clusters on %d sampled customers: %w", len(points), err)
	}
	m.K, m.Centroids, m.Silhouette = cl.K, cl.Centroids, cl.Silhouette
	if len(scores) > 1 {
		m.Candidates = scores
	}
	return m, nil
}

// Step is one worker's share of a Lloyd iteration over all customers: per
// cluster, the fixed-point sum of the standardized points assigned to it
// and their number; how many customers the last centroid update moved to
// another cluster; and the fixed-point inertia.
type Step struct {
	Sums    [][]int64 `json:"sums"`
	Counts  []int64   `json:"counts"`
	Changed int64     `json:"changed"`
	Inertia int64     `json:"inertia"`
}

func newStep(k, dim int) *Step {
	s := &Step{Sums: make([][]int64, k), Counts: make([]int64, k)}
	for i := range s.Sums {
		s.Sums[i] = make([]int64, dim)
	}
	return s
}

func fixed(v float64) int64 { return int64(math.Round(v * fixedScale)) }

// Assign is the k-means worker step: each customer goes to its nearest
// centroid. A customer counts as changed when its nearest previous
// centroid was another cluster, so workers keep no state between steps.
func Assign(customers []segments.Customer, m *Model) *Step {
	dim := len(m.Mean)
	s := newStep(m.K, dim)
	for _, c := range customers {
		x := m.point(c)
		k, d := segments.Nearest(x, m.Centroids)
		if m.Prev == nil {
			s.Changed++
		} else if pk, _ := segments.Nearest(x, m.Prev); pk != k {
			s.Changed++
		}
		s.Counts[k]++
		s.Inertia += fixed(d)
		for j, v := range x {
			s.Sums[k][j] += fixed(v)
		}
	}
	return s
}

// Merge adds o into s.
func (s *Step) Merge(o *Step) {
	for k := range s.Sums {
		s.Counts[k] += o.Counts[k]
		for j := range s.Sums[k] {
			s.Sums[k][j] += o.Sums[k][j]
		}
	}
	s.Changed += o.Changed
	s.Inertia += o.Inertia
}

// ErrStepMismatch reports a step of another shape than the model's.
var ErrStepMismatch = errors.New("score job: k-means step does not match the model")

// Update is the k-means merge step. As in segments.KMeans, the iterations
// stop once fewer than one customer in 10,000 changed cluster, or after
// MaxIterations; otherwise the centroids move to the means of their
// customers (a cluster that lost every customer stays where it was).
func Update(m *Model, s *Step) error {
	if len(s.Counts) != m.K {
		return ErrStepMismatch
	}
	m.Iteration++
	m.Sizes = s.Counts
	m.Inertia = float64(s.Inertia) / fixedScale
	if s.Changed*10000 <= m.Customers || m.Iteration >= m.Plan.Config.MaxIterations {
		m.Done = true
		return nil
	}
	next := make([][]float64, m.K)
	for k := range next {
		if s.Counts[k] == 0 {
			next[k] = slices.Clone(m.Centroids[k])
			continue
		}
		next[k] = make([]float64, len(s.Sums[k]))
		for j, v := range s.Sums[k] {
			next[k][j] = float64(v) / fixedScale / float64(s.Counts[k])
		}
	}
	m.Prev, m.Centroids = m.Centroids, next
	return nil
}
