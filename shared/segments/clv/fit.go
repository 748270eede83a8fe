package clv

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/optimize"
)

// FitOptions tunes a maximum-likelihood fit. The zero value is a sensible
// default.
type FitOptions struct {
	// Start is the starting point in the model's natural parameters; zero
	// means all ones, which sits inside the basin of every data set we have
	// tried.
	Start []float64
	// MaxIterations caps optimiser iterations; zero means 500.
	MaxIterations int
	// MaxDuration caps the fit's wall time (each optimiser's, when the
	// fallback runs); zero means one minute. A fit that runs out of time
	// fails with ErrNotConverged rather than holding up the run.
	MaxDuration time.Duration
}

// maxLogParam bounds the log-parameters the optimiser may explore: beyond
// e^±30 the likelihood is flat to working precision and exp would head for
// overflow, which turns a line search into NaNs.
const maxLogParam = 30

// minimizeLog minimises the mean negative log-likelihood over log-parameters
// so that every parameter stays positive without constraints. nll fills
// grad (d/dlogθ) when it is non-nil. BFGS with the analytic gradient does
// the work; Nelder-Mead is a fallback for the rare surface where the line
// search gives up.
func minimizeLog(nll func(logθ, grad []float64) float64, start []float64, opts FitOptions) ([]float64, float64, int, error) {
	return minimizeLogTol(nll, start, opts, 1e-9)
}

// minimizeLogTol is minimizeLog stopping BFGS once every gradient component
// is below gradTol. An analytic gradient resolves 1e-9; one by finite
// differences carries noise of about 1e-10, and asked for 1e-9 its line
// search fails on that noise, which sends the fit to the much slower
// Nelder-Mead.
func minimizeLogTol(nll func(logθ, grad []float64) float64, start []float64, opts FitOptions, gradTol float64) ([]float64, float64, int, error) {
	x0 := make([]float64, len(start))
	for i, v := range start {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, 0, 0, fmt.Errorf("%w: starting value %v", ErrInvalid, v)
		}
		x0[i] = math.Log(v)
	}
	maxIter := opts.MaxIterations
	if maxIter == 0 {
		maxIter = 500
	}
	bounded := func(x []float64) bool {
		for _, v := range x {
			if math.Abs(v) > maxLogParam {
				return false
			}
		}
		return true
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 {
			if !bounded(x) {
				return math.Inf(1)
			}
			return nll(x, nil)
		},
		Grad: func(grad, x []float64) {
			if !bounded(x) {
				for i := range grad {
					grad[i] = 0
				}
				return
			}
			nll(x, grad)
		},
	}
	runtime := opts.MaxDuration
	if runtime == 0 {
		runtime = time.Minute
	}
	settings := &optimize.Settings{
		MajorIterations:   maxIter,
		GradientThreshold: gradTol,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
		Runtime:           runtime,
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.BFGS{})
	if err != nil || res == nil || !finite(res.F) || !bounded(res.X) || res.Status == optimize.RuntimeLimit {
		res2, err2 := optimize.Minimize(p, x0, settings, &optimize.NelderMead{})
		if err2 != nil || res2 == nil || !finite(res2.F) || res2.Status == optimize.RuntimeLimit {
			if err2 == nil && res2 != nil && res2.Status == optimize.RuntimeLimit {
				err2 = fmt.Errorf("no convergence within %v", runtime)
			}
			if err == nil {
				err = fmt.Errorf("stopped at %v", res.Status)
			}
			return nil, 0, 0, fmt.Errorf("%w: BFGS: %v; Nelder-Mead: %v", ErrNotConverged, err, err2)
		}
		res = res2
	}
	out := make([]float64, len(res.X))
	for i, v := range res.X {
		out[i] = math.Exp(v)
	}
	return out, res.F, res.Stats.MajorIterations, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// logSumExp returns log(e^a + e^b) without overflow.
func logSumExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

func lbeta(a, b float64) float64 { return lgamma(a) + lgamma(b) - lgamma(a+b) }

// fitFour fits a four-parameter purchase model by maximum likelihood.
// ll is the log-likelihood of the summary's groups at θ; when analytic is
// true it also fills grad (d/dlog θ, when grad is non-nil), otherwise the
// gradient comes from central finite differences and BFGS stops at the
// coarser paretoGradTol that their noise allows. name labels errors.
func fitFour(name string, s *Summary, opts FitOptions, analytic bool,
	ll func(θ [4]float64, groups []tupleGroup, grad []float64) float64) (θ [4]float64, logLik, n float64, iters int, err error) {
	if s == nil || s.Customers() == 0 {
		return θ, 0, 0, 0, fmt.Errorf("fit %s: %w", name, ErrNoData)
	}
	start := opts.Start
	if start == nil {
		start = []float64{1, 1, 1, 1}
	}
	if len(start) != 4 {
		return θ, 0, 0, 0, fmt.Errorf("fit %s: %w: %d starting values, want 4", name, ErrInvalid, len(start))
	}
	groups := s.groups()
	n = s.Customers()
	meanNLL := func(lp, grad []float64) float64 {
		l := ll([4]float64{math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])}, groups, grad)
		for i := range grad {
			grad[i] = -grad[i] / n
		}
		if !finite(l) {
			return math.Inf(1)
		}
		return -l / n
	}
	nll, tol := meanNLL, 1e-9
	if !analytic {
		tol = paretoGradTol
		nll = func(lp, grad []float64) float64 {
			if grad != nil {
				fd.Gradient(grad, func(x []float64) float64 { return meanNLL(x, nil) }, lp, &fd.Settings{Formula: fd.Central})
			}
			return meanNLL(lp, nil)
		}
	}
	p, f, iters, err := minimizeLogTol(nll, start, opts, tol)
	if err != nil {
		return θ, 0, n, 0, fmt.Errorf("fit %s on %v customers: %w", name, n, err)
	}
	return [4]float64{p[0], p[1], p[2], p[3]}, -f * n, n, iters, nil
}
