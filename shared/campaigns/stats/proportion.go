package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval [Lo, Hi].
type Interval struct {
	Lo, Hi float64
}

// Scale multiplies both bounds by k, which must be positive; it turns a
// per-member interval into one for a whole arm.
func (iv Interval) Scale(k float64) Interval { return Interval{iv.Lo * k, iv.Hi * k} }

var nan = math.NaN()

// undefined is the interval of a quantity the data cannot define.
var undefined = Interval{nan, nan}

// zTwoSided is the standard normal quantile that leaves (1-conf)/2 in each
// tail: 1.959964 for conf = 0.95. conf must be in (0, 1).
func zTwoSided(conf float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-conf)/2)
}

// Wilson returns the Wilson score interval for a proportion at confidence
// conf (Wilson 1927; method 3 of Newcombe 1998a). Unlike the textbook
// p ± z·se it stays inside [0, 1] and does not collapse to a point at 0 or
// n successes, which matters for the small and rare conversion counts of a
// young campaign. With n = 0 it returns [0, 1], the formula's limit: the
// data say nothing. Requires 0 <= successes <= n.
func Wilson(successes, n int, conf float64) Interval {
	if n == 0 {
		return Interval{0, 1}
	}
	z := zTwoSided(conf)
	fn := float64(n)
	p := float64(successes) / fn
	z2 := z * z
	denom := 1 + z2/fn
	center := (p + z2/(2*fn)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	iv := Interval{center - half, center + half}
	// The exact bounds at the edges; rounding would leave ±1e-17.
	if successes == 0 {
		iv.Lo = 0
	}
	if successes == n {
		iv.Hi = 1
	}
	return iv
}

// Newcombe returns Newcombe's hybrid score interval (method 10 of Newcombe
// 1998b) for the difference p1 - p2 of two independent proportions at
// confidence conf. It combines the two Wilson intervals, so it inherits
// their good coverage with few or no conversions, where the Wald interval
// for a difference is far too narrow. With an empty arm the difference is
// undefined and both bounds are NaN.
func Newcombe(x1, n1, x2, n2 int, conf float64) Interval {
	if n1 == 0 || n2 == 0 {
		return undefined
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	w1, w2 := Wilson(x1, n1, conf), Wilson(x2, n2, conf)
	d := p1 - p2
	return Interval{
		Lo: d - math.Hypot(p1-w1.Lo, w2.Hi-p2),
		Hi: d + math.Hypot(w1.Hi-p1, p2-w2.Lo),
	}
}

// TwoProportionZ tests p1 = p2 with the pooled two-proportion z test and
// returns z (positive when p1 > p2) and the two-sided p-value; z² is
// Pearson's chi-square on the 2×2 table, as R's prop.test(correct = FALSE)
// reports it. When no member or every member converted in both arms the
// observed difference is exactly zero and there is no variance to scale it,
// so z = 0 and p = 1. With an empty arm both are NaN.
func TwoProportionZ(x1, n1, x2, n2 int) (z, p float64) {
	if n1 == 0 || n2 == 0 {
		return nan, nan
	}
	f1, f2 := float64(n1), float64(n2)
	pooled := float64(x1+x2) / (f1 + f2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/f1 + 1/f2))
	if se == 0 {
		return 0, 1
	}
	z = (float64(x1)/f1 - float64(x2)/f2) / se
	return z, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// ProportionMDE returns the smallest increase over the baseline rate that
// the pooled z test at two-sided level alpha detects with probability
// power, for arms of n1 (treated) and n2 (baseline) members. It solves
//
//	delta = z(1-alpha/2)·sqrt(pbar(1-pbar)(1/n1+1/n2)) + z(power)·sqrt(p(1-p)/n2 + q(1-q)/n1)
//
// for delta, with q = p + delta and pbar the pooled rate: the null
// variance is pooled as the test pools it, the alternative's is not. The
// shortcut that uses p(1-p) for both arms overstates the power (to about
// 73% instead of 80% at a 5% baseline), and it would claim a zero MDE at a
// zero baseline. The result is NaN when an arm is empty or when no
// increase up to a rate of 1 reaches the power.
func ProportionMDE(baseline float64, n1, n2 int, alpha, power float64) float64 {
	if n1 == 0 || n2 == 0 || baseline < 0 || baseline >= 1 {
		return nan
	}
	za := distuv.UnitNormal.Quantile(1 - alpha/2)
	zb := distuv.UnitNormal.Quantile(power)
	f1, f2 := float64(n1), float64(n2)
	p := baseline
	// gap is convex in delta and not positive at 0, so it crosses zero
	// once and bisection finds the crossing.
	gap := func(delta float64) float64 {
		q := p + delta
		pbar := (f2*p + f1*q) / (f1 + f2)
		null := math.Sqrt(pbar * (1 - pbar) * (1/f1 + 1/f2))
		alt := math.Sqrt(p*(1-p)/f2 + q*(1-q)/f1)
		return delta - za*null - zb*alt
	}
	lo, hi := 0.0, 1-p
	if gap(hi) <= 0 {
		return nan
	}
	for hi-lo > 1e-12 {
		mid := (lo + hi) / 2
		if gap(mid) > 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
