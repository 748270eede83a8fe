package service

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"tailor/shared/customers"
	"tailor/shared/segments"
)

// Synthetic draws n customers' purchase days from the BG/NBD and
// Gamma-Gamma generative processes with the published CDNOW parameters
// (in days), purchases spread over the year before asOf (none on asOf
// itself). One customer in 50 never buys and one in 37 buys in EUR, so
// every outcome of Derive occurs. One customer in 3 has a latest rating
// and one in 4 a latest NPS answer, a few of them given after the as-of
// day; they take no random draw, so the purchase days are those of a seed
// whatever the answers. Deterministic for a seed; for tests and
// benchmarks.
func Synthetic(n int, seed uint64, asOf time.Time) []segments.CustomerDays {
	src := rand.NewPCG(seed, 0x5E6)
	rng := rand.New(src)
	const r, alphaDays, a, b = 0.243, 4.414 * 7, 0.793, 2.426
	const p, q, v = 6.25, 3.74, 15.44
	lambda := distuv.Gamma{Alpha: r, Beta: alphaDays, Src: src}
	drop := distuv.Beta{Alpha: a, Beta: b, Src: src}
	nu := distuv.Gamma{Alpha: q, Beta: v, Src: src}
	end := AsOfDate(asOf)
	out := make([]segments.CustomerDays, n)
	for i := range out {
		c := segments.CustomerDays{CustomerID: fmt.Sprintf("s%07d", i), Days: map[string]customers.Amounts{}}
		at := end.AddDate(0, 0, -(i%30 + 1))
		if i%41 == 40 {
			at = end.AddDate(0, 0, 1).Add(time.Hour) // the day after the as-of date: not counted
		}
		if i%3 == 0 {
			c.LastRating = &customers.Answer{Value: (i*7)%5 + 1, At: at, EventID: fmt.Sprintf("r%07d", i)}
		}
		if i%4 == 0 {
			c.LastNPS = &customers.Answer{Value: (i * 3) % 11, At: at, EventID: fmt.Sprintf("n%07d", i)}
		}
		out[i] = c
		if i%50 == 49 {
			continue
		}
		cur := "GBP"
		if i%37 == 36 {
			cur = "EUR"
		}
		first := 1 + rng.IntN(365)
		l, pd := lambda.Rand(), drop.Rand()
		spend := distuv.Gamma{Alpha: p, Beta: nu.Rand(), Src: src}
		add := func(back float64) {
			day := end.AddDate(0, 0, -int(math.Ceil(back))).Format(time.DateOnly)
			if c.Days[day] == nil {
				c.Days[day] = customers.Amounts{}
			}
			c.Days[day][cur] += max(int64(math.Round(spend.Rand()*100)), 1)
		}
		add(float64(first))
		t := 0.0
		for l > 0 {
			t += rng.ExpFloat64() / l
			if t >= float64(first)-1 {
				break
			}
			add(float64(first) - t)
			if rng.Float64() < pd {
				break
			}
		}
	}
	return out
}
