package clv

import (
	"math"
	"os"
	"tailor/shared/local/dataset/datasettest"
	"testing"

	"tailor/shared/local/dataset"
)

func openCDNOW(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(datasettest.Path(t, "cdnow", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// cdnowFromFile builds the model summaries from the published summary file.
func cdnowFromFile(t testing.TB) (*Summary, *SpendSummary) {
	t.Helper()
	rows, err := dataset.ReadCDNOWSummary(openCDNOW(t, "cdnow_customers_summary_with_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	var sp SpendSummary
	for _, r := range rows {
		if err := s.Add(Customer{X: r.X, TX: r.TX, T: r.T}); err != nil {
			t.Fatalf("customer %d: %v", r.ID, err)
		}
		if _, err := sp.Add(r.X, r.Zbar); err != nil {
			t.Fatalf("customer %d: %v", r.ID, err)
		}
	}
	return &s, &sp
}

// cdnowFromSample builds them from the raw transactions with our own
// summary code, at full precision rather than the file's two decimals.
func cdnowFromSample(t testing.TB) (*Summary, *SpendSummary) {
	t.Helper()
	ps, err := dataset.ReadCDNOWSample(openCDNOW(t, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	end, _ := dataset.ParseDate("1997-09-30")
	var s Summary
	var sp SpendSummary
	for _, c := range dataset.Summarize(dataset.CDNOWTransactions(ps), end) {
		if err := s.Add(Customer{X: c.Repeat, TX: float64(c.RecencyDays) / 7, T: float64(c.AgeDays) / 7}); err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Add(c.Repeat, c.MeanRepeatSpend()/100); err != nil {
			t.Fatal(err)
		}
	}
	return &s, &sp
}

// sig3 reports whether got agrees with the published value to three
// significant digits: within half a unit of the third digit.
func sig3(got, published float64) bool {
	unit := math.Pow(10, math.Floor(math.Log10(math.Abs(published)))-2)
	return math.Abs(got-published) <= unit/2
}

func TestFitCDNOWPublished(t *testing.T) {
	sources := []struct {
		name  string
		build func(testing.TB) (*Summary, *SpendSummary)
	}{
		{"summary file", cdnowFromFile},
		{"from CDNOW_sample.txt", cdnowFromSample},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			s, sp := src.build(t)
			if s.Customers() != 2357 || sp.Customers() != 946 {
				t.Fatalf("%v customers, %v with repeat spend; want 2357, 946", s.Customers(), sp.Customers())
			}
			fit, err := FitBGNBD(s, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := fit.Model
			params := []struct {
				name           string
				got, published float64
			}{
				{"r", m.R, 0.243}, {"alpha", m.Alpha, 4.414}, {"a", m.A, 0.793}, {"b", m.B, 2.426},
				{"log-likelihood", fit.LogLikelihood, -9582.4},
			}
			for _, p := range params {
				if !sig3(p.got, p.published) {
					t.Errorf("BG/NBD %s = %.5g, published %v", p.name, p.got, p.published)
				}
			}
			if math.Abs(fit.LogLikelihood - -9582.4) > 0.1 {
				t.Errorf("log-likelihood %.3f, published -9582.4", fit.LogLikelihood)
			}
			t.Logf("BG/NBD %+v LL %.4f after %d iterations", m, fit.LogLikelihood, fit.Iterations)

			predictions := []struct {
				name      string
				got       func() (float64, error)
				published float64
			}{
				{"customer 1516 next 52 weeks", func() (float64, error) {
					return m.ExpectedPurchases(Customer{X: 26, TX: 30.85714, T: 31}, 52)
				}, 25.757},
				{"customer 1516 P(alive)", func() (float64, error) {
					return m.PAlive(Customer{X: 26, TX: 30.85714, T: 31})
				}, 0.9689},
				{"new customer E[X(52)]", func() (float64, error) { return m.ExpectedPurchasesNew(52) }, 1.444},
				{"x=2 t_x=30.43 T=38.86 next 39 weeks", func() (float64, error) {
					return m.ExpectedPurchases(Customer{X: 2, TX: 30.43, T: 38.86}, 39)
				}, 1.226},
			}
			for _, p := range predictions {
				got, err := p.got()
				if err != nil {
					t.Errorf("%s: %v", p.name, err)
					continue
				}
				if !sig3(got, p.published) {
					t.Errorf("%s = %.5g, published %v", p.name, got, p.published)
				}
			}

			gg, err := FitGammaGamma(sp, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			g := gg.Model
			for _, p := range []struct {
				name           string
				got, published float64
			}{{"p", g.P, 6.25}, {"q", g.Q, 3.74}, {"v", g.V, 15.44}} {
				if !sig3(p.got, p.published) {
					t.Errorf("Gamma-Gamma %s = %.5g, published %v", p.name, p.got, p.published)
				}
			}
			t.Logf("Gamma-Gamma %+v LL %.4f after %d iterations", g, gg.LogLikelihood, gg.Iterations)
		})
	}
}

// TestMergedSummariesFitLikeOne splits the customer base across workers,
// merges their summaries in a scrambled order and checks the coordinator's
// fit is the single-node fit.
func TestMergedSummariesFitLikeOne(t *testing.T) {
	rows, err := dataset.ReadCDNOWSummary(openCDNOW(t, "cdnow_customers_summary_with_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 5
	parts := make([]Summary, workers)
	spends := make([]SpendSummary, workers)
	var whole Summary
	for i, r := range rows {
		c := Customer{X: r.X, TX: r.TX, T: r.T}
		if err := parts[i%workers].Add(c); err != nil {
			t.Fatal(err)
		}
		if _, err := spends[i%workers].Add(r.X, r.Zbar); err != nil {
			t.Fatal(err)
		}
		if err := whole.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	var merged Summary
	var mergedSpend SpendSummary
	for _, i := range []int{3, 0, 4, 1, 2} {
		merged.Merge(&parts[i])
		mergedSpend.Merge(&spends[i])
	}
	if merged.Customers() != whole.Customers() || merged.Tuples() != whole.Tuples() {
		t.Fatalf("merged %v customers in %d tuples, whole %v in %d", merged.Customers(), merged.Tuples(), whole.Customers(), whole.Tuples())
	}
	a, err := FitBGNBD(&merged, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := FitBGNBD(&whole, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("merged fit %+v, single fit %+v", a, b)
	}
	if mergedSpend.Customers() != 946 {
		t.Errorf("merged spend summary has %v customers, want 946", mergedSpend.Customers())
	}
}
