package segments

import (
	"math"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// synthetic draws n customers from the BG/NBD and Gamma-Gamma generative
// processes with the published CDNOW parameters (converted to days), with
// first purchases spread over a 90-day cohort and a 272-day calibration
// period, as in the CDNOW study. Deterministic for a given seed.
func synthetic(n int, seed uint64) []Customer {
	src := rand.NewPCG(seed, 0xCD)
	rng := rand.New(src)
	const r, alphaDays, a, b = 0.243, 4.414 * 7, 0.793, 2.426
	const p, q, v = 6.25, 3.74, 15.44
	lambda := distuv.Gamma{Alpha: r, Beta: alphaDays, Src: src}
	drop := distuv.Beta{Alpha: a, Beta: b, Src: src}
	nu := distuv.Gamma{Alpha: q, Beta: v, Src: src}
	const end = 272
	out := make([]Customer, n)
	for i := range out {
		first := rng.IntN(90)
		l, pd := lambda.Rand(), drop.Rand()
		spend := distuv.Gamma{Alpha: p, Beta: nu.Rand(), Src: src}
		c := Customer{CustomerID: "c" + strconv.Itoa(i), PurchaseDays: 1, AgeDays: end - first}
		c.TotalSpend = int64(math.Round(spend.Rand() * 100))
		t, lastDay := float64(first), first
		for l > 0 {
			t += rng.ExpFloat64() / l
			if t >= end+1 { // before int(t): a tiny rate sends t past int range
				break
			}
			day := int(t)
			amount := int64(math.Round(spend.Rand() * 100))
			c.TotalSpend += amount
			if day != first {
				c.RepeatSpend += amount
			}
			if day != lastDay {
				c.PurchaseDays++
				lastDay = day
			}
			if rng.Float64() < pd {
				break
			}
		}
		c.RecencyDays = lastDay - first
		out[i] = c
	}
	return out
}
