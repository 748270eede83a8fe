package stats

import (
	"errors"
	"fmt"
	"math"
)

// The levels every report uses; docs/campaigns.md states them to marketers.
const (
	// Confidence is the level of every interval in a report.
	Confidence = 0.95
	// Alpha is the two-sided significance level of every test in a report
	// and of the minimum detectable effect.
	Alpha = 1 - Confidence
	// Power is the probability of detecting an effect of the size of the
	// minimum detectable effect.
	Power = 0.80
)

// ErrInput reports input BuildReport cannot use. The service builds the
// input from stored campaigns and members, so it signals a bug, not a bad
// request.
var ErrInput = errors.New("invalid report input")

// Arm names the group a member was assigned to.
type Arm string

// The two arms of a campaign; the strings are those of the API.
const (
	Treatment Arm = "treatment"
	Holdout   Arm = "holdout"
)

// Observation is one assigned member's outcome. Every assigned member is
// observed, whether or not a message reached them (intent to treat), so
// that the arms stay the random halves the assignment made.
type Observation struct {
	Arm Arm
	// Converted is whether the member made a qualifying purchase in the
	// attribution window.
	Converted bool
	// Revenue is the member's spend in the window, in minor units.
	Revenue int64
	// PreSpend is the member's spend in the 90 days before launch, in
	// minor units: the CUPED covariate.
	PreSpend int64
}

// Input is what a report is computed from.
type Input struct {
	Members []Observation
	// HoldoutShare is the configured share of members held out, in (0, 1).
	HoldoutShare float64
	// Cost is the campaign's cost in minor units; 0 means none was given.
	Cost int64
	// Closed is whether the attribution window has ended.
	Closed bool
}

// Report is a campaign's statistics, ready to encode as JSON. Every
// difference is treatment minus holdout. A null (nil) number is one the
// data cannot define yet, such as a rate of an empty arm; docs/campaigns.md
// lists when each is null.
type Report struct {
	// Provisional is true while the attribution window is open: members
	// can still convert, so every figure will move.
	Provisional bool       `json:"provisional"`
	Confidence  float64    `json:"confidence"`
	Members     Counts     `json:"members"`
	SRM         SRMCheck   `json:"srm"`
	Conversion  Conversion `json:"conversion"`
	// Revenue compares revenue per member, capped.
	Revenue Revenue `json:"revenue_per_member"`
	// CUPED compares revenue per member, capped and adjusted for
	// pre-period spend.
	CUPED       CUPEDRevenue `json:"revenue_per_member_cuped"`
	Incremental Incremental  `json:"incremental"`
	// Cost is the configured cost in minor units, null when none.
	Cost *int64 `json:"cost_minor"`
	// ROI is (incremental revenue - cost) / cost, null without a cost.
	ROI Estimate `json:"roi"`
	MDE MDE      `json:"mde"`
}

// Counts is a number per arm.
type Counts struct {
	Treatment int `json:"treatment"`
	Holdout   int `json:"holdout"`
}

// Estimate is a point estimate with its confidence interval.
type Estimate struct {
	Value *float64 `json:"value"`
	Low   *float64 `json:"low"`
	High  *float64 `json:"high"`
}

// MoneyEstimate is an Estimate of an amount, rounded to minor units.
type MoneyEstimate struct {
	Value *int64 `json:"value_minor"`
	Low   *int64 `json:"low_minor"`
	High  *int64 `json:"high_minor"`
}

// SRMCheck is the sample-ratio-mismatch check of the arm sizes.
type SRMCheck struct {
	ExpectedHoldoutShare float64  `json:"expected_holdout_share"`
	ObservedHoldoutShare *float64 `json:"observed_holdout_share"`
	ChiSquare            *float64 `json:"chi_square"`
	P                    float64  `json:"p_value"`
	Threshold            float64  `json:"threshold"`
	// Mismatch is P < Threshold: the arms are not the split configured,
	// and the comparisons below should not be trusted.
	Mismatch bool `json:"mismatch"`
}

// ConversionArm is one arm's conversion with its Wilson interval.
type ConversionArm struct {
	Members     int      `json:"members"`
	Conversions int      `json:"conversions"`
	Rate        Estimate `json:"rate"`
}

// Conversion compares the conversion rates of the arms.
type Conversion struct {
	Treatment ConversionArm `json:"treatment"`
	Holdout   ConversionArm `json:"holdout"`
	// Difference is the absolute difference with Newcombe's interval.
	Difference Estimate `json:"difference"`
	// RelativeLift is treatment/holdout - 1 with the log-scale interval.
	RelativeLift Estimate `json:"relative_lift"`
	Z            *float64 `json:"z"`
	P            *float64 `json:"p_value"`
	// Significant is P < Alpha.
	Significant bool `json:"significant"`
}

// MeanArm is one arm's mean, in minor units per member.
type MeanArm struct {
	Members int      `json:"members"`
	Mean    *float64 `json:"mean_minor"`
	SD      *float64 `json:"sd_minor"`
}

// MeanComparison compares the means of the arms with Welch's t.
type MeanComparison struct {
	Treatment    MeanArm  `json:"treatment"`
	Holdout      MeanArm  `json:"holdout"`
	Difference   Estimate `json:"difference_minor"`
	RelativeLift Estimate `json:"relative_lift"`
	DF           *float64 `json:"df"`
	T            *float64 `json:"t"`
	P            *float64 `json:"p_value"`
	// Significant is P < Alpha.
	Significant bool `json:"significant"`
}

// Revenue compares revenue per member after capping.
type Revenue struct {
	MeanComparison
	CapQuantile float64 `json:"cap_quantile"`
	// Cap is the cap in minor units, null when no member spent anything.
	Cap *int64 `json:"cap_minor"`
	// Capped counts the members whose revenue was above the cap.
	Capped int `json:"capped_members"`
}

// CUPEDRevenue compares capped revenue per member adjusted for pre-period
// spend.
type CUPEDRevenue struct {
	MeanComparison
	Theta             float64  `json:"theta"`
	VarianceReduction *float64 `json:"variance_reduction"`
	// PreSpendCap is the cap applied to the covariate, in minor units.
	PreSpendCap *int64 `json:"pre_spend_cap_minor"`
}

// Incremental is what the treatment arm gained over what it would have
// done as a holdout: the per-member difference times its size.
type Incremental struct {
	Conversions Estimate      `json:"conversions"`
	Revenue     MoneyEstimate `json:"revenue"`
}

// MDE is the minimum detectable effect for the arm sizes and baseline
// observed: the smallest true effect the report would call significant at
// Alpha with probability Power.
type MDE struct {
	Alpha float64 `json:"alpha"`
	Power float64 `json:"power"`
	// ConversionAbsolute is an increase of the conversion rate.
	ConversionAbsolute *float64 `json:"conversion_absolute"`
	// ConversionRelative is ConversionAbsolute over the holdout's rate.
	ConversionRelative *float64 `json:"conversion_relative"`
	RevenuePerMember   *float64 `json:"revenue_per_member_minor"`
	// RevenuePerMemberCUPED plans with the adjusted variance.
	RevenuePerMemberCUPED *float64 `json:"revenue_per_member_cuped_minor"`
}

// BuildReport computes a campaign's report from its members' outcomes. It
// fails with ErrInput on an unknown arm, a holdout share outside (0, 1) or
// a negative cost.
func BuildReport(in Input) (Report, error) {
	if !(in.HoldoutShare > 0 && in.HoldoutShare < 1) {
		return Report{}, fmt.Errorf("%w: holdout share %v is not in (0, 1)", ErrInput, in.HoldoutShare)
	}
	if in.Cost < 0 {
		return Report{}, fmt.Errorf("%w: negative cost %d", ErrInput, in.Cost)
	}
	var n, x Counts
	for i, m := range in.Members {
		switch m.Arm {
		case Treatment:
			n.Treatment++
			x.Treatment += b2i(m.Converted)
		case Holdout:
			n.Holdout++
			x.Holdout += b2i(m.Converted)
		default:
			return Report{}, fmt.Errorf("%w: member %d has arm %q", ErrInput, i, m.Arm)
		}
	}
	r := Report{
		Provisional: !in.Closed,
		Confidence:  Confidence,
		Members:     n,
		SRM:         srmCheck(n, in.HoldoutShare),
		Conversion:  conversion(n, x),
	}
	raw, adj := r.compareRevenue(in.Members, n)

	// Incremental totals scale the per-member differences by the treated
	// arm's size. Revenue uses the CUPED difference: it estimates the same
	// effect as the capped one, with a narrower interval.
	k := float64(n.Treatment)
	convDiff := float64(x.Treatment)/float64(n.Treatment) - float64(x.Holdout)/float64(n.Holdout)
	r.Incremental.Conversions = estimate(convDiff*k, Newcombe(x.Treatment, n.Treatment, x.Holdout, n.Holdout, Confidence).Scale(k))
	revDiff := Welch(adj.A, adj.B, Confidence)
	inc, incCI := revDiff.Estimate*k, revDiff.CI.Scale(k)
	r.Incremental.Revenue = MoneyEstimate{money(inc), money(incCI.Lo), money(incCI.Hi)}
	if in.Cost > 0 {
		c := float64(in.Cost)
		r.Cost = &in.Cost
		r.ROI = estimate((inc-c)/c, Interval{(incCI.Lo - c) / c, (incCI.Hi - c) / c})
	}

	base := float64(x.Holdout) / float64(n.Holdout)
	mde := ProportionMDE(base, n.Treatment, n.Holdout, Alpha, Power)
	r.MDE = MDE{
		Alpha:                 Alpha,
		Power:                 Power,
		ConversionAbsolute:    num(mde),
		ConversionRelative:    num(mde / base),
		RevenuePerMember:      num(MeanMDE(PooledVariance(raw[0], raw[1]), n.Treatment, n.Holdout, Alpha, Power)),
		RevenuePerMemberCUPED: num(MeanMDE(PooledVariance(adj.A, adj.B), n.Treatment, n.Holdout, Alpha, Power)),
	}
	return r, nil
}

// compareRevenue caps revenue and pre-period spend, fills in the capped
// and the CUPED comparisons, and returns the capped summaries (treatment,
// holdout) and the CUPED adjustment for the figures built on them.
func (r *Report) compareRevenue(members []Observation, n Counts) ([2]Summary, Adjusted) {
	revenue := make([]int64, len(members))
	pre := make([]int64, len(members))
	for i, m := range members {
		revenue[i], pre[i] = m.Revenue, m.PreSpend
	}
	revCap, hasRev := Cap(revenue, CapQuantile)
	preCap, hasPre := Cap(pre, CapQuantile)
	r.Revenue = Revenue{CapQuantile: CapQuantile}
	if hasRev {
		r.Revenue.Cap = &revCap
	}
	if hasPre {
		r.CUPED.PreSpendCap = &preCap
	}
	treated, held := make([]Pair, 0, n.Treatment), make([]Pair, 0, n.Holdout)
	var rawT, rawH Moments
	for _, m := range members {
		y, cx := m.Revenue, m.PreSpend
		if hasRev && y > revCap {
			y = revCap
			r.Revenue.Capped++
		}
		if hasPre && cx > preCap {
			cx = preCap
		}
		p := Pair{Y: float64(y), X: float64(cx)}
		if m.Arm == Treatment {
			treated = append(treated, p)
			rawT.Add(p.Y)
		} else {
			held = append(held, p)
			rawH.Add(p.Y)
		}
	}
	raw := [2]Summary{rawT.Summary(), rawH.Summary()}
	r.Revenue.MeanComparison = compare(raw[0], raw[1])
	adj := CUPED(treated, held)
	r.CUPED.MeanComparison = compare(adj.A, adj.B)
	r.CUPED.Theta = adj.Theta
	r.CUPED.VarianceReduction = num(adj.VarianceReduction)
	return raw, adj
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func srmCheck(n Counts, holdoutShare float64) SRMCheck {
	chi2, p := SRM([]int{n.Treatment, n.Holdout}, []float64{1 - holdoutShare, holdoutShare})
	return SRMCheck{
		ExpectedHoldoutShare: holdoutShare,
		ObservedHoldoutShare: num(float64(n.Holdout) / float64(n.Treatment+n.Holdout)),
		ChiSquare:            num(chi2),
		P:                    p,
		Threshold:            SRMThreshold,
		Mismatch:             p < SRMThreshold,
	}
}

func conversion(n, x Counts) Conversion {
	arm := func(x, n int) ConversionArm {
		a := ConversionArm{Members: n, Conversions: x}
		if n > 0 {
			a.Rate = estimate(float64(x)/float64(n), Wilson(x, n, Confidence))
		}
		return a
	}
	c := Conversion{Treatment: arm(x.Treatment, n.Treatment), Holdout: arm(x.Holdout, n.Holdout)}
	pT, pH := float64(x.Treatment)/float64(n.Treatment), float64(x.Holdout)/float64(n.Holdout)
	c.Difference = estimate(pT-pH, Newcombe(x.Treatment, n.Treatment, x.Holdout, n.Holdout, Confidence))
	c.RelativeLift = estimate(ProportionLift(x.Treatment, n.Treatment, x.Holdout, n.Holdout, Confidence))
	z, p := TwoProportionZ(x.Treatment, n.Treatment, x.Holdout, n.Holdout)
	c.Z, c.P, c.Significant = num(z), num(p), p < Alpha
	return c
}

// compare builds the JSON view of Welch's comparison of a (treatment) and
// b (holdout).
func compare(a, b Summary) MeanComparison {
	arm := func(s Summary) MeanArm {
		return MeanArm{Members: s.N, Mean: num(s.Mean), SD: num(math.Sqrt(s.Variance))}
	}
	d := Welch(a, b, Confidence)
	se := func(s Summary) float64 { return math.Sqrt(s.Variance / float64(s.N)) }
	return MeanComparison{
		Treatment:    arm(a),
		Holdout:      arm(b),
		Difference:   estimate(d.Estimate, d.CI),
		RelativeLift: estimate(RelativeLift(a.Mean, se(a), b.Mean, se(b), Confidence)),
		DF:           num(d.DF),
		T:            num(d.T),
		P:            num(d.P),
		Significant:  d.P < Alpha,
	}
}

// num is x for JSON: nil when x is NaN or infinite, which encoding/json
// refuses.
func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// money rounds an amount in minor units to the nearest unit; nil when it
// is undefined or beyond int64.
func money(x float64) *int64 {
	if math.IsNaN(x) || math.Abs(x) >= math.MaxInt64 {
		return nil
	}
	v := int64(math.Round(x))
	return &v
}

func estimate(v float64, iv Interval) Estimate {
	return Estimate{Value: num(v), Low: num(iv.Lo), High: num(iv.Hi)}
}
