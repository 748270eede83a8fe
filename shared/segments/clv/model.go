package clv

import (
	"fmt"
	"math"
)

// The names FitModel and PurchaseModel.Name use for the purchase models.
const (
	ModelBGNBD     = "bgnbd"
	ModelMBGNBD    = "mbgnbd"
	ModelParetoNBD = "paretonbd"
)

// ModelNames lists the purchase models FitModel knows, in a fixed order.
func ModelNames() []string {
	return []string{ModelBGNBD, ModelMBGNBD, ModelParetoNBD}
}

// ChurnHorizonDays is the default horizon N of the churn risk
// P(no purchase in the next N days); a model fitted in weeks takes
// ChurnHorizonDays/7.
const ChurnHorizonDays = 90

// PurchaseModel is a fitted model of when customers buy and drop out. The
// time unit of every argument is the unit of the summary it was fitted on.
// Implementations are values and safe for concurrent use.
type PurchaseModel interface {
	// Name returns the model's name as FitModel accepts it.
	Name() string
	// LogLikelihood returns the log-likelihood of every customer in s.
	LogLikelihood(s *Summary) float64
	// PAlive returns the probability that the customer is alive at T.
	PAlive(c Customer) (float64, error)
	// ExpectedPurchases returns the expected purchases in (T, T+t].
	ExpectedPurchases(c Customer, t float64) (float64, error)
	// PNoPurchase returns the probability of no purchase in (T, T+t].
	PNoPurchase(c Customer, t float64) (float64, error)
}

var (
	_ PurchaseModel = BGNBD{}
	_ PurchaseModel = MBGNBD{}
	_ PurchaseModel = ParetoNBD{}
)

// FitModel fits the model called name ("bgnbd", "mbgnbd" or "paretonbd")
// to s by maximum likelihood and returns it with its log-likelihood.
func FitModel(name string, s *Summary, opts FitOptions) (PurchaseModel, float64, error) {
	var (
		m   PurchaseModel
		ll  float64
		err error
	)
	switch name {
	case ModelBGNBD:
		var f BGNBDFit
		f, err = FitBGNBD(s, opts)
		m, ll = f.Model, f.LogLikelihood
	case ModelMBGNBD:
		var f MBGNBDFit
		f, err = FitMBGNBD(s, opts)
		m, ll = f.Model, f.LogLikelihood
	case ModelParetoNBD:
		var f ParetoNBDFit
		f, err = FitParetoNBD(s, opts)
		m, ll = f.Model, f.LogLikelihood
	default:
		return nil, 0, fmt.Errorf("%w: unknown purchase model %q (want one of %v)", ErrInvalid, name, ModelNames())
	}
	if err != nil {
		return nil, 0, err
	}
	return m, ll, nil
}

// checkHorizon reports an ErrInvalid unless t is finite and not negative.
func checkHorizon(t float64) error {
	if !(t >= 0) || math.IsInf(t, 0) {
		return fmt.Errorf("%w: horizon %v", ErrInvalid, t)
	}
	return nil
}

// pNoPurchaseAfterPurchase is P(no purchase in (T, T+t]) for the models in
// which a customer can drop out only at a purchase (BG/NBD, MBG/NBD):
//
//	P(dead at T) + P(alive at T) · ((α+T)/(α+T+t))^(r+x).
//
// A customer alive at T who makes no purchase in the window has had no
// chance to drop out in it, so only λ matters: the posterior of λ given
// the history and alive is Gamma(r+x, α+T) (the likelihood of a live
// customer is λ^x e^-λT times terms free of λ), and
// E[e^-λt] = ((α+T)/(α+T+t))^(r+x) is its Laplace transform. The same
// value is L(x, tx, T+t)/L(x, tx, T), since only the alive term of either
// likelihood depends on T. As t → ∞ it falls to P(dead at T).
func pNoPurchaseAfterPurchase(pAlive, r, alpha float64, c Customer, t float64) float64 {
	buys := -math.Expm1(-(r + float64(c.X)) * math.Log1p(t/(alpha+c.T)))
	return 1 - pAlive*buys
}
