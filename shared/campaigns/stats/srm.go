package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// SRMThreshold is the p-value below which a sample-ratio mismatch is
// flagged. It is far stricter than the usual 0.05 because the check runs on
// every report of every campaign and a false alarm discredits a sound
// campaign; a broken assignment or a lost arm at campaign sizes gives p-values
// many orders of magnitude smaller (GrowthBook uses the same threshold).
const SRMThreshold = 0.001

// SRM is the sample-ratio-mismatch check: Pearson's chi-square goodness of
// fit of the observed arm sizes to the configured shares, with k-1 degrees
// of freedom, and its p-value. A small p-value means the assignment or the
// data pipeline lost or duplicated members in one arm, and no comparison of
// the arms can be trusted. expectedShares are normalised to sum to 1 and
// must be as long as observed. With no members there is nothing to test:
// chi2 = 0, p = 1. Members in an arm with share 0 give chi2 = +Inf, p = 0.
func SRM(observed []int, expectedShares []float64) (chi2, p float64) {
	if len(observed) != len(expectedShares) {
		panic("stats.SRM: observed and expectedShares differ in length")
	}
	total, shareSum := 0, 0.0
	for i, o := range observed {
		total += o
		shareSum += expectedShares[i]
	}
	if total == 0 {
		return 0, 1
	}
	df := -1
	for i, o := range observed {
		e := float64(total) * expectedShares[i] / shareSum
		if e == 0 {
			if o > 0 {
				return math.Inf(1), 0
			}
			continue
		}
		df++
		chi2 += (float64(o) - e) * (float64(o) - e) / e
	}
	if df < 1 {
		return 0, 1
	}
	return chi2, distuv.ChiSquared{K: float64(df)}.Survival(chi2)
}
