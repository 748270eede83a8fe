package clv

import (
	"errors"
	"math"
	"testing"
)

// TestFitModel fits every model by name on CDNOW and checks that each
// comes back as its own type, reports the log-likelihood its LogLikelihood
// method gives, and lands on the reference log-likelihood (published for
// BG/NBD and Pareto/NBD; for MBG/NBD, at the lifetimes/BTYDplus parameters).
func TestFitModel(t *testing.T) {
	s, _ := cdnowFromFile(t)
	wantLL := map[string]float64{
		ModelBGNBD:     -9582.4,
		ModelMBGNBD:    mbgCDNOW.LogLikelihood(s),
		ModelParetoNBD: -9595.0,
	}
	for _, name := range ModelNames() {
		m, ll, err := FitModel(name, s, FitOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Name() != name {
			t.Errorf("FitModel(%q) returned a %s", name, m.Name())
		}
		if got := m.LogLikelihood(s); math.Abs(got-ll) > 1e-6 {
			t.Errorf("%s: FitModel LL %.6f, LogLikelihood %.6f", name, ll, got)
		}
		if math.Abs(ll-wantLL[name]) > 0.1 {
			t.Errorf("%s: LL %.4f, reference %.4f", name, ll, wantLL[name])
		}
		t.Logf("%s %+v LL %.4f", name, m, ll)
	}
	if _, _, err := FitModel("nbd", s, FitOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown model: %v", err)
	}
	if _, _, err := FitModel(ModelParetoNBD, &Summary{}, FitOptions{}); !errors.Is(err, ErrNoData) {
		t.Errorf("empty summary: %v", err)
	}
}

// TestModelsAgreeOnCustomer1516 compares the three models on the CDNOW
// paper's example customer (x = 26, t_x = 30.86, T = 31) at their CDNOW
// parameters: a heavy, recent buyer is almost surely alive under all
// three and very unlikely to go 90 days without buying.
func TestModelsAgreeOnCustomer1516(t *testing.T) {
	c := Customer{X: 26, TX: 30.85714, T: 31}
	h := float64(ChurnHorizonDays) / 7
	for _, m := range []PurchaseModel{published, mbgCDNOW, publishedPareto} {
		pa, err1 := m.PAlive(c)
		e, err2 := m.ExpectedPurchases(c, 52)
		p0, err3 := m.PNoPurchase(c, h)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: P(alive) %.4f, E[52 weeks] %.3f, P(no purchase in 90 days) %.5f", m.Name(), pa, e, p0)
		if pa < 0.95 || e < 24 || e > 28 || p0 > 0.05 {
			t.Errorf("%s: P(alive) %.4f, E[52 weeks] %.3f, P(no purchase in 90 days) %.5f", m.Name(), pa, e, p0)
		}
	}
}
