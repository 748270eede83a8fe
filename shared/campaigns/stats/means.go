package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is what a mean comparison needs of one arm: its size, mean and
// sample variance (divisor n-1).
type Summary struct {
	N        int
	Mean     float64
	Variance float64
}

// Moments accumulates a Summary one value at a time with Welford's update,
// which stays accurate where the naive sum of squares loses every digit
// (revenue in minor units squared reaches 1e12 and more). The zero value
// is empty and ready to use.
type Moments struct {
	n    int
	mean float64
	m2   float64 // sum of squared deviations from the running mean
}

// Add includes x.
func (m *Moments) Add(x float64) {
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// Summary returns the values added so far. Mean is NaN with no value and
// Variance is NaN with fewer than two: one member says nothing about the
// spread, and a zero there would claim a certainty the data do not have.
func (m Moments) Summary() Summary {
	s := Summary{N: m.n, Mean: m.mean, Variance: nan}
	if m.n == 0 {
		s.Mean = nan
	}
	if m.n > 1 {
		s.Variance = m.m2 / float64(m.n-1)
	}
	return s
}

// Diff is the difference of two means with its Welch test.
type Diff struct {
	// Estimate is mean(a) - mean(b).
	Estimate float64
	// SE is the standard error of Estimate, sqrt(va/na + vb/nb).
	SE float64
	// DF is the Welch–Satterthwaite degrees of freedom.
	DF float64
	// T is Estimate / SE.
	T float64
	// P is the two-sided p-value of T under Student's t with DF.
	P float64
	// CI is Estimate ± t(DF, 1-(1-conf)/2)·SE.
	CI Interval
}

// Welch compares the means of a and b without assuming equal variances
// (Welch's t test with Welch–Satterthwaite degrees of freedom, as R's
// t.test(var.equal = FALSE)): a campaign can change the spread of revenue
// as well as its level, and the arms differ in size.
//
// Degenerate cases: with an empty arm everything is NaN; with an arm of
// one member the estimate is defined and the rest NaN. When both arms have
// zero variance the difference is known exactly: CI is [d, d], DF is NaN,
// and T and P are 0 and 1 when d = 0, ±Inf and 0 otherwise.
func Welch(a, b Summary, conf float64) Diff {
	d := Diff{Estimate: a.Mean - b.Mean, SE: nan, DF: nan, T: nan, P: nan, CI: undefined}
	if a.N < 2 || b.N < 2 {
		if a.N == 0 || b.N == 0 {
			d.Estimate = nan
		}
		return d
	}
	ua, ub := a.Variance/float64(a.N), b.Variance/float64(b.N)
	d.SE = math.Sqrt(ua + ub)
	if d.SE == 0 {
		d.CI = Interval{d.Estimate, d.Estimate}
		if d.Estimate == 0 {
			d.T, d.P = 0, 1
		} else {
			d.T, d.P = math.Copysign(math.Inf(1), d.Estimate), 0
		}
		return d
	}
	d.DF = (ua + ub) * (ua + ub) / (ua*ua/float64(a.N-1) + ub*ub/float64(b.N-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: d.DF}
	d.T = d.Estimate / d.SE
	d.P = 2 * t.Survival(math.Abs(d.T))
	half := t.Quantile(1-(1-conf)/2) * d.SE
	d.CI = Interval{d.Estimate - half, d.Estimate + half}
	return d
}

// MeanMDE returns the smallest difference of means that a two-sided test
// at level alpha detects with probability power, for arms of n1 and n2
// members whose values have the given (pooled) variance:
// (z(1-alpha/2) + z(power))·sqrt(variance·(1/n1 + 1/n2)). It uses normal
// quantiles, which at campaign sizes differ from t's in the fourth digit.
// NaN with an empty arm or an undefined variance; 0 when the variance is 0.
func MeanMDE(variance float64, n1, n2 int, alpha, power float64) float64 {
	if n1 == 0 || n2 == 0 {
		return nan
	}
	z := distuv.UnitNormal.Quantile(1-alpha/2) + distuv.UnitNormal.Quantile(power)
	return z * math.Sqrt(variance*(1/float64(n1)+1/float64(n2)))
}

// PooledVariance returns the within-arm variance of a and b weighted by
// their degrees of freedom, the variance MeanMDE plans with. NaN when an
// arm has fewer than two members.
func PooledVariance(a, b Summary) float64 {
	if a.N < 2 || b.N < 2 {
		return nan
	}
	return (float64(a.N-1)*a.Variance + float64(b.N-1)*b.Variance) / float64(a.N+b.N-2)
}

// RelativeLift returns treatment/control - 1 for two positive means with
// standard errors, and an interval from the delta method on the log of
// the ratio: log(t/c) ± z·sqrt((seT/t)² + (seC/c)²), transformed back.
// The log scale keeps the interval inside (-1, ∞) and makes it asymmetric
// as a ratio's should be; for proportions with se² = p(1-p)/n it is Katz's
// log interval for a risk ratio. The lift is NaN unless control > 0; the
// interval is NaN unless both means are positive (the log of a zero rate
// has no delta method) or when a standard error is NaN.
func RelativeLift(treatment, seT, control, seC, conf float64) (float64, Interval) {
	if !(control > 0) {
		return nan, undefined
	}
	lift := treatment/control - 1
	if !(treatment > 0) || math.IsNaN(seT) || math.IsNaN(seC) {
		return lift, undefined
	}
	se := math.Hypot(seT/treatment, seC/control)
	half := zTwoSided(conf) * se
	l := math.Log(treatment / control)
	return lift, Interval{math.Exp(l-half) - 1, math.Exp(l+half) - 1}
}

// ProportionLift is RelativeLift for conversion counts: treatment x1/n1
// over control x2/n2, each with the binomial standard error. The interval
// is NaN when an arm has no conversions or converted entirely: the
// binomial standard error is 0 there, and an interval of width zero would
// claim a certainty that a finite sample cannot give.
func ProportionLift(x1, n1, x2, n2 int, conf float64) (float64, Interval) {
	if n1 == 0 || n2 == 0 {
		return nan, undefined
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	lift, iv := RelativeLift(p1, math.Sqrt(p1*(1-p1)/float64(n1)), p2, math.Sqrt(p2*(1-p2)/float64(n2)), conf)
	if x1 == n1 || x2 == n2 {
		iv = undefined
	}
	return lift, iv
}
