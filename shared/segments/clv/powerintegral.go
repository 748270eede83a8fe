package clv

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"
)

// logPowerIntegral returns
//
//	log ∫_lo^hi (a+τ)^(-ea) · (b+τ)^(-eb) dτ,   a, b > 0, ea, eb > 0, ea+eb > 1,
//
// the integral at the heart of the Pareto/NBD likelihood (with a = α,
// ea = r+x, b = β, eb = s+1). It is -Inf when lo = hi.
//
// The series below is the Gaussian hypergeometric form of Fader & Hardie
// (2005, "A Note on Deriving the Pareto/NBD Model", equations 14-16), summed
// so that nothing cancels; where it would converge too slowly the integral
// is computed by quadrature instead.
func logPowerIntegral(a, ea, b, eb, lo, hi float64) float64 {
	if !(hi > lo) {
		return math.Inf(-1)
	}
	if v, ok := logPowerSeries(a, ea, b, eb, lo, hi); ok {
		return v
	}
	return logPowerQuadrature(a, ea, b, eb, lo, hi)
}

// logPowerSeries sums the integral as a series. Let c be the larger shift
// and m the smaller, with exponents ec and em, d = c - m and N = ea+eb-1.
// Writing m+τ = (c+τ)(1 - d/(c+τ)) and expanding the second factor
// binomially,
//
//	(m+τ)^(-em)(c+τ)^(-ec) = Σ_k (em)_k/k! · d^k · (c+τ)^-(N+1+k),
//
// and integrating term by term,
//
//	I = (c+lo)^-N · Σ_k (em)_k/k! · z^k · (1 - e^-((N+k)δ)) / (N+k),
//	z = d/(c+lo),  δ = log((c+hi)/(c+lo)).
//
// This is the difference of the two 2F1(N, em; N+1; ·) terms of the
// published likelihood, taken term by term: every term is positive, so
// customers whose last purchase is close to T lose no precision. Terms are
// rescaled as they go so that huge x cannot overflow them. It reports false
// when the series would need more than maxSeriesTerms terms (z near 1).
func logPowerSeries(a, ea, b, eb, lo, hi float64) (float64, bool) {
	c, m, em := a, b, eb
	if b > a {
		c, m, em = b, a, ea
	}
	n := ea + eb - 1
	z := (c - m) / (c + lo)
	delta := math.Log1p((hi - lo) / (c + lo))
	// qOver(k) = (1 - e^-((N+k)δ))/(N+k) = ∫_0^δ e^-((N+k)v) dv falls with
	// k, so term_(k+1)/term_k <= (em+k)/(k+1)·z.
	qOver := func(k float64) float64 {
		return -math.Expm1(-(n+k)*delta) / (n + k)
	}
	const eps = 1e-16
	const rescale = 1e280
	var logScale float64
	coef := 1.0 // (em)_k/k! · z^k, divided by e^logScale
	sum := coef * qOver(0)
	for k := 0.0; k < maxSeriesTerms; k++ {
		ratio := (em + k) / (k + 1) * z
		coef *= ratio
		term := coef * qOver(k+1)
		// Later ratios never exceed max(ratio, z): they fall toward z when
		// em > 1 and rise toward it from below otherwise.
		q := math.Max(ratio, z)
		if term == 0 || (q < 1 && term/(1-q) <= eps*sum) {
			sum += term
			return -n*math.Log(c+lo) + math.Log(sum) + logScale, true
		}
		sum += term
		if coef > rescale {
			coef /= rescale
			sum /= rescale
			logScale += math.Log(rescale)
		}
		if !finite(sum) {
			return 0, false
		}
	}
	return 0, false
}

// legendre16 holds 16-point Gauss-Legendre nodes and weights on [-1, 1].
var legendre16 = sync.OnceValues(func() ([]float64, []float64) {
	x, w := make([]float64, 16), make([]float64, 16)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	return x, w
})

// logPowerQuadrature computes the integral by Gauss-Legendre quadrature on
// pieces short enough that the log of the integrand changes by at most one
// across each (its slope falls in τ, so the slope at a piece's left end
// bounds it) and that each is no longer than its distance from the nearer
// singularity at τ = -min(a, b). There the integrand is smooth enough for
// 16 nodes to reach machine precision. The integrand falls monotonically,
// so the sum stops once the rest of the range cannot add 1e-17 of it.
// Values are taken relative to the integrand at lo so that nothing under-
// or overflows.
func logPowerQuadrature(a, ea, b, eb, lo, hi float64) float64 {
	m := math.Min(a, b)
	logF := func(τ float64) float64 { return -ea*math.Log(a+τ) - eb*math.Log(b+τ) }
	f0 := logF(lo)
	nodes, weights := legendre16()
	var sum float64
	for left := lo; left < hi; {
		slope := ea/(a+left) + eb/(b+left)
		right := math.Min(hi, left+math.Min(m+left, 1/slope))
		if !(right > left) {
			break // a step below the spacing of floats: nothing left to add
		}
		half, mid := (right-left)/2, (right+left)/2
		var piece float64
		for i, u := range nodes {
			piece += weights[i] * math.Exp(logF(mid+half*u)-f0)
		}
		sum += piece * half
		if math.Exp(logF(right)-f0)*(hi-right) <= 1e-17*sum {
			break
		}
		left = right
	}
	return f0 + math.Log(sum)
}
