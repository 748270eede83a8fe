package stats

// Pair is one member's outcome Y and pre-period covariate X (for a
// campaign: revenue in the window and spend in the 90 days before launch).
type Pair struct {
	Y, X float64
}

// Adjusted is the outcome of CUPED for two arms.
type Adjusted struct {
	// A and B summarise the adjusted outcome y - Theta·(x - mean x) per arm.
	A, B Summary
	// Theta is cov(x, y) / var(x) over both arms together; 0 when x does
	// not vary, so that the adjustment changes nothing.
	Theta float64
	// VarianceReduction is 1 - var'/var, where var and var' are the
	// variances of the estimated difference of means (va/na + vb/nb)
	// before and after adjustment: the share of the variance the covariate
	// removed. The interval narrows by sqrt(1 - VarianceReduction). It is
	// 0 when the outcome does not vary and NaN when an arm has fewer than
	// two members.
	VarianceReduction float64
}

// CUPED adjusts each member's outcome by the part its pre-period covariate
// predicts (Deng, Xu, Kohavi & Walker 2013): y' = y - θ(x - x̄) with
// θ = cov(x, y)/var(x). Because x was fixed before assignment it is
// independent of the arm, so the adjusted difference of means estimates
// the same effect as the raw one, with its variance reduced by the squared
// correlation of x and y. θ and x̄ are pooled over both arms, as the
// treatment cannot have changed x; θ is then treated as known, which at
// campaign sizes costs nothing measurable.
func CUPED(a, b []Pair) Adjusted {
	var n, mx, my, sxx, sxy float64
	for _, arm := range [][]Pair{a, b} {
		for _, p := range arm {
			// Welford's co-moment update, stable like Moments.
			n++
			dx := p.X - mx
			mx += dx / n
			my += (p.Y - my) / n
			sxx += dx * (p.X - mx)
			sxy += dx * (p.Y - my)
		}
	}
	theta := 0.0
	if sxx > 0 {
		theta = sxy / sxx
	}
	summarise := func(arm []Pair) (raw, adj Summary) {
		var r, m Moments
		for _, p := range arm {
			r.Add(p.Y)
			m.Add(p.Y - theta*(p.X-mx))
		}
		return r.Summary(), m.Summary()
	}
	rawA, adjA := summarise(a)
	rawB, adjB := summarise(b)
	out := Adjusted{A: adjA, B: adjB, Theta: theta, VarianceReduction: nan}
	if rawA.N >= 2 && rawB.N >= 2 {
		before := rawA.Variance/float64(rawA.N) + rawB.Variance/float64(rawB.N)
		after := adjA.Variance/float64(adjA.N) + adjB.Variance/float64(adjB.N)
		out.VarianceReduction = 0
		if before > 0 {
			out.VarianceReduction = 1 - after/before
		}
	}
	return out
}
