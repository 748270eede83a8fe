package stats

import (
	"math"
	"slices"
)

// CapQuantile is the quantile of the pooled positive values at which
// revenue is capped before means are taken. A few very large orders (a
// wholesale buyer, a data error) would otherwise decide the revenue
// comparison and inflate its variance so much that no real effect could
// be seen; capping the top 1% trades a small, documented bias in the mean
// for a far more precise comparison, as experiment platforms do.
const CapQuantile = 0.99

// Cap returns the q-quantile (nearest rank: the ceil(q·m)-th smallest of
// the m positive values) of the positive values, and false when there is
// none. Only positive values count because most members of a campaign buy
// nothing: at a conversion rate under 1 - q, the quantile over all members
// is 0 and capping would erase every sale. The nearest rank is an observed
// amount, so the cap stays exact money. values is not modified.
func Cap(values []int64, q float64) (int64, bool) {
	var pos []int64
	for _, v := range values {
		if v > 0 {
			pos = append(pos, v)
		}
	}
	if len(pos) == 0 {
		return 0, false
	}
	slices.Sort(pos)
	k := int(math.Ceil(q * float64(len(pos))))
	k = min(max(k, 1), len(pos))
	return pos[k-1], true
}
