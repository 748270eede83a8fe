// Package segments scores and groups customers for marketing: RFM quintile
// scores and named segments, and behavioural clusters by k-means, plus the
// run record a nightly segmentation stores. It does no I/O: callers pass
// customer summaries in and get scores out.
//
// Every global statistic (quantile cut points, feature moments, k-means
// centroids) is computed from partial results that merge by addition, so
// the same code runs on one machine or fanned out over workers with a
// coordinator merging their partials.
package segments

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrInvalid reports input outside the documented domain.
var ErrInvalid = errors.New("segment: invalid input")

// ErrNoData reports a computation asked to run on no customers.
var ErrNoData = errors.New("segment: no customers")

// RFMInput is what RFM needs to know about a customer as of a date.
type RFMInput struct {
	CustomerID string
	// RecencyDays is the number of days from the last purchase to the
	// as-of date (0 = bought that day).
	RecencyDays int
	// Frequency is the number of distinct purchase days, the same
	// purchase-occasion count the BG/NBD model uses, so a basket split into
	// several orders on one day is not three visits.
	Frequency int
	// Monetary is total spend over the history, in minor units.
	Monetary int64
}

func (in RFMInput) validate() error {
	if in.RecencyDays < 0 || in.Frequency < 1 || in.Monetary < 0 {
		return fmt.Errorf("%w: customer %s: recency %d, frequency %d, monetary %d",
			ErrInvalid, in.CustomerID, in.RecencyDays, in.Frequency, in.Monetary)
	}
	return nil
}

// Histogram counts exact int64 values. Two histograms merge by adding
// counts, so quantiles of the union are exact whatever the split.
// The zero value is empty and ready to use.
type Histogram struct {
	counts map[int64]int64
	n      int64
}

// Add records one value.
func (h *Histogram) Add(v int64) {
	if h.counts == nil {
		h.counts = make(map[int64]int64)
	}
	h.counts[v]++
	h.n++
}

// Merge adds o's counts into h.
func (h *Histogram) Merge(o *Histogram) {
	for v, c := range o.counts {
		if h.counts == nil {
			h.counts = make(map[int64]int64, len(o.counts))
		}
		h.counts[v] += c
	}
	h.n += o.n
}

// Count returns the number of values recorded.
func (h *Histogram) Count() int64 { return h.n }

// Distinct returns the number of distinct values: the histogram's size.
func (h *Histogram) Distinct() int { return len(h.counts) }

// Quintiles returns the four cut points c1..c4 splitting the values into
// fifths: ci is the value at 1-based rank ceil(i·n/5) of the sorted values
// (the lower nearest-rank quantile), so every cut point is an observed
// value.
func (h *Histogram) Quintiles() ([4]int64, error) {
	var cuts [4]int64
	if h.n == 0 {
		return cuts, ErrNoData
	}
	values := slices.Sorted(maps.Keys(h.counts))
	var seen int64
	next := 0
	for _, v := range values {
		seen += h.counts[v]
		for next < 4 && seen >= (int64(next+1)*h.n+4)/5 {
			cuts[next] = v
			next++
		}
	}
	return cuts, nil
}

// QuantizeMoney truncates a monetary amount to three significant digits
// (12,345 -> 12,300) so the monetary histogram stays small (at most 900
// keys per decade) however many customers there are, with a relative error
// under 1%. Integer arithmetic keeps it exact and monotone.
func QuantizeMoney(v int64) int64 {
	if v < 1000 && v > -1000 {
		return v
	}
	var scale int64 = 1
	a := v
	if a < 0 {
		a = -a
	}
	for a >= 1000 {
		a /= 10
		scale *= 10
	}
	if v < 0 {
		return -a * scale
	}
	return a * scale
}

// RFMPartial is one worker's share of the RFM statistics; merged partials
// give the global cut points. Recency and frequency are small integers
// counted exactly; monetary is counted after QuantizeMoney.
// The zero value is empty and ready to use.
type RFMPartial struct {
	Recency, Frequency, Monetary Histogram
}

// Add records one customer.
func (p *RFMPartial) Add(in RFMInput) error {
	if err := in.validate(); err != nil {
		return err
	}
	p.Recency.Add(int64(in.RecencyDays))
	p.Frequency.Add(int64(in.Frequency))
	p.Monetary.Add(QuantizeMoney(in.Monetary))
	return nil
}

// Merge adds o into p.
func (p *RFMPartial) Merge(o *RFMPartial) {
	p.Recency.Merge(&o.Recency)
	p.Frequency.Merge(&o.Frequency)
	p.Monetary.Merge(&o.Monetary)
}

// Cuts returns the global quintile cut points.
func (p *RFMPartial) Cuts() (RFMCuts, error) {
	var c RFMCuts
	var err error
	if c.Recency, err = p.Recency.Quintiles(); err != nil {
		return c, fmt.Errorf("recency quintiles: %w", err)
	}
	if c.Frequency, err = p.Frequency.Quintiles(); err != nil {
		return c, fmt.Errorf("frequency quintiles: %w", err)
	}
	if c.Monetary, err = p.Monetary.Quintiles(); err != nil {
		return c, fmt.Errorf("monetary quintiles: %w", err)
	}
	return c, nil
}

// RFMCuts are the quintile cut points of one run, stored with the run so
// that any score can be explained and reproduced. Recency is in days,
// frequency in purchase days, monetary in minor units at three significant
// digits.
type RFMCuts struct {
	Recency   [4]int64 `json:"recency_days"`
	Frequency [4]int64 `json:"frequency"`
	Monetary  [4]int64 `json:"monetary_minor"`
}

// RFMScore is a customer's cell: each score is 1..5, 5 best.
type RFMScore struct {
	R int `json:"r"`
	F int `json:"f"`
	M int `json:"m"`
}

// Score places a customer in the cuts. A value's score is one plus the
// number of cut points it exceeds, so equal values always share a score and
// a value equal to a cut point falls in the lower fifth. Recency is
// inverted (fewer days is better): its score is five minus the number of
// cut points the days exceed, so a tie at a cut point falls in the more
// recent fifth. With many ties (most customers buy once) several cut points
// coincide and some scores are then never used; that is the honest answer,
// where breaking ties arbitrarily would give equal customers unequal scores.
func (c RFMCuts) Score(in RFMInput) RFMScore {
	above := func(v int64, cuts [4]int64) int {
		n := 0
		for _, x := range cuts {
			if v > x {
				n++
			}
		}
		return n
	}
	return RFMScore{
		R: 5 - above(int64(in.RecencyDays), c.Recency),
		F: 1 + above(int64(in.Frequency), c.Frequency),
		M: 1 + above(QuantizeMoney(in.Monetary), c.Monetary),
	}
}

// Segment is a named RFM segment.
type Segment string

// The segments, in the order reports list them.
const (
	Champions         Segment = "Champions"
	Loyal             Segment = "Loyal"
	PotentialLoyalist Segment = "Potential Loyalist"
	New               Segment = "New"
	Promising         Segment = "Promising"
	NeedAttention     Segment = "Need Attention"
	AboutToSleep      Segment = "About to Sleep"
	AtRisk            Segment = "At Risk"
	CantLoseThem      Segment = "Can't Lose Them"
	Hibernating       Segment = "Hibernating"
	Lost              Segment = "Lost"
)

// Segments lists every segment in report order.
var Segments = []Segment{Champions, Loyal, PotentialLoyalist, New, Promising, NeedAttention,
	AboutToSleep, AtRisk, CantLoseThem, Hibernating, Lost}

// Slug is the segment's name in URLs and index keys: lower case, words
// joined by hyphens, apostrophes dropped ("Can't Lose Them" ->
// "cant-lose-them").
func (s Segment) Slug() string {
	r := strings.NewReplacer("'", "", " ", "-")
	return strings.ToLower(r.Replace(string(s)))
}

// SegmentBySlug returns the segment a slug names.
func SegmentBySlug(slug string) (Segment, bool) {
	for _, s := range Segments {
		if s.Slug() == slug {
			return s, true
		}
	}
	return "", false
}

// Slugs lists every segment's slug in report order.
func Slugs() []string {
	out := make([]string, len(Segments))
	for i, s := range Segments {
		out[i] = s.Slug()
	}
	return out
}

// segmentMap is the score map. Rows are R (5 first), columns are the
// combined frequency-monetary score FM = round((F+M)/2) from 1 to 5. A
// table rather than rules, so every one of the 125 (R,F,M) cells has
// exactly one segment by construction:
//
//	R\FM   1                2                   3                   4                5
//	5      New              Potential Loyalist  Potential Loyalist  Champions        Champions
//	4      Promising        Potential Loyalist  Potential Loyalist  Loyal            Champions
//	3      About to Sleep   About to Sleep      Need Attention      Loyal            Loyal
//	2      Hibernating      Hibernating         At Risk             At Risk          Can't Lose Them
//	1      Lost             Lost                Hibernating         At Risk          Can't Lose Them
//
// Recent customers of low value are "New" or "Promising" rather than
// "Lost"; valuable customers who have gone quiet are "At Risk" and, at the
// top of the value range, "Can't Lose Them" — the two win-back audiences.
var segmentMap = [5][5]Segment{
	{Lost, Lost, Hibernating, AtRisk, CantLoseThem},
	{Hibernating, Hibernating, AtRisk, AtRisk, CantLoseThem},
	{AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal},
	{Promising, PotentialLoyalist, PotentialLoyalist, Loyal, Champions},
	{New, PotentialLoyalist, PotentialLoyalist, Champions, Champions},
}

// SegmentOf returns the segment of a cell (see segmentMap for the table).
// Scores outside 1..5 are an error.
func SegmentOf(s RFMScore) (Segment, error) {
	for _, v := range [...]int{s.R, s.F, s.M} {
		if v < 1 || v > 5 {
			return "", fmt.Errorf("%w: RFM cell %+v", ErrInvalid, s)
		}
	}
	fm := (s.F + s.M + 1) / 2
	return segmentMap[s.R-1][fm-1], nil
}

// SegmentTally accumulates segment sizes and revenue; tallies merge by
// addition. The zero value is empty and ready to use.
type SegmentTally struct {
	Customers map[Segment]int64
	Revenue   map[Segment]int64
}

// Add counts one customer with the given revenue in minor units.
func (t *SegmentTally) Add(s Segment, revenue int64) {
	if t.Customers == nil {
		t.Customers = make(map[Segment]int64)
		t.Revenue = make(map[Segment]int64)
	}
	t.Customers[s]++
	t.Revenue[s] += revenue
}

// Merge adds o into t.
func (t *SegmentTally) Merge(o *SegmentTally) {
	for s, n := range o.Customers {
		if t.Customers == nil {
			t.Customers = make(map[Segment]int64)
			t.Revenue = make(map[Segment]int64)
		}
		t.Customers[s] += n
		t.Revenue[s] += o.Revenue[s]
	}
}

// SegmentSummary describes one segment of a run.
type SegmentSummary struct {
	Segment      Segment `json:"segment"`
	Customers    int64   `json:"customers"`
	Share        float64 `json:"share"`
	Revenue      int64   `json:"revenue_minor"`
	RevenueShare float64 `json:"revenue_share"`
}

// Summaries lists every segment in report order, empty ones included so
// that runs compare column by column.
func (t *SegmentTally) Summaries() []SegmentSummary {
	var n, rev int64
	for s, c := range t.Customers {
		n += c
		rev += t.Revenue[s]
	}
	out := make([]SegmentSummary, 0, len(Segments))
	for _, s := range Segments {
		sum := SegmentSummary{Segment: s, Customers: t.Customers[s], Revenue: t.Revenue[s]}
		if n > 0 {
			sum.Share = float64(sum.Customers) / float64(n)
		}
		if rev > 0 {
			sum.RevenueShare = float64(sum.Revenue) / float64(rev)
		}
		out = append(out, sum)
	}
	return out
}

// RFMResult is RFM for a whole customer base.
type RFMResult struct {
	Cuts     RFMCuts
	Scores   []RFMScore // parallel to the input
	Segments []Segment  // parallel to the input
	Summary  []SegmentSummary
}

// RFM scores every customer against the cut points of the whole base. It
// is the single-node composition of RFMPartial, RFMCuts.Score, SegmentOf
// and SegmentTally.
func RFM(in []RFMInput) (RFMResult, error) {
	if len(in) == 0 {
		return RFMResult{}, fmt.Errorf("rfm: %w", ErrNoData)
	}
	var p RFMPartial
	for _, c := range in {
		if err := p.Add(c); err != nil {
			return RFMResult{}, fmt.Errorf("rfm: %w", err)
		}
	}
	cuts, err := p.Cuts()
	if err != nil {
		return RFMResult{}, fmt.Errorf("rfm: %w", err)
	}
	res := RFMResult{Cuts: cuts, Scores: make([]RFMScore, len(in)), Segments: make([]Segment, len(in))}
	var tally SegmentTally
	for i, c := range in {
		res.Scores[i] = cuts.Score(c)
		seg, err := SegmentOf(res.Scores[i])
		if err != nil {
			return RFMResult{}, fmt.Errorf("rfm: %w", err) // unreachable: Score returns 1..5
		}
		res.Segments[i] = seg
		tally.Add(seg, c.Monetary)
	}
	res.Summary = tally.Summaries()
	return res, nil
}
