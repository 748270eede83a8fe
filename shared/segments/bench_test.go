package segments

import (
	"sync"
	"testing"

	"tailor/shared/segments/clv"
)

var (
	benchOnce      sync.Once
	benchCustomers []Customer
)

// BenchmarkSegmentCore times the global statistics of a nightly run on one
// million synthetic customers: RFM cut points, scores and segments;
// standardized k-means (k = 5, and k chosen over 2..8 by silhouette on a
// 2,000-point sample); and the BG/NBD and Gamma-Gamma fits from summaries.
// Per-customer CLV scoring is not included: it is embarrassingly parallel
// and is timed by BenchmarkScoreCustomer.
func BenchmarkSegmentCore(b *testing.B) {
	benchOnce.Do(func() { benchCustomers = synthetic(1_000_000, 2026) })
	for _, km := range []struct {
		name string
		opts KMeansOptions
	}{
		{"k=5", KMeansOptions{K: 5, Seed: 1}},
		{"k=2..8", KMeansOptions{KMin: 2, KMax: 8, Seed: 1}},
	} {
		b.Run(km.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rfmIn := make([]RFMInput, len(benchCustomers))
				var bg clv.Summary
				var spend clv.SpendSummary
				for i, c := range benchCustomers {
					rfmIn[i] = c.rfm()
					if err := bg.Add(c.bgnbd(7)); err != nil {
						b.Fatal(err)
					}
					if _, err := spend.Add(c.PurchaseDays-1, c.meanRepeatSpend(100)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := RFM(rfmIn); err != nil {
					b.Fatal(err)
				}
				if _, err := clusterRFM(rfmIn, km.opts); err != nil {
					b.Fatal(err)
				}
				if _, err := clv.FitBGNBD(&bg, clv.FitOptions{}); err != nil {
					b.Fatal(err)
				}
				if _, err := clv.FitGammaGamma(&spend, clv.FitOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScoreCustomer times one customer's P(alive), 12-month expected
// purchases, expected spend and discounted CLV.
func BenchmarkScoreCustomer(b *testing.B) {
	m := clv.BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	g := clv.GammaGamma{P: 6.25, Q: 3.74, V: 15.44}
	c := clv.Customer{X: 4, TX: 30, T: 38}
	opts := clv.ValueOptions{MonthlyDiscount: 0.01, UnitsPerMonth: clv.DaysPerMonth / 7}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.PAlive(c); err != nil {
			b.Fatal(err)
		}
		if _, err := m.ExpectedPurchases(c, 52); err != nil {
			b.Fatal(err)
		}
		s, err := g.ExpectedSpend(c.X, 30)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := clv.LifetimeValue(m, c, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}
