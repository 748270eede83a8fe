package stats

import (
	"math"
	"testing"
)

func summarise(values ...float64) Summary {
	var m Moments
	for _, v := range values {
		m.Add(v)
	}
	return m.Summary()
}

// TestMomentsStable checks Welford's update where the textbook
// sum-of-squares formula loses every digit: values near 1e9 (ten million
// pounds in pence) whose deviations from the mean are -6, -3, 3, 6, so
// the variance is 90/3 = 30 exactly.
func TestMomentsStable(t *testing.T) {
	s := summarise(1e9+4, 1e9+7, 1e9+13, 1e9+16)
	if s.N != 4 || s.Mean != 1e9+10 || !near(s.Variance, 30, 1e-6) {
		t.Fatalf("Summary = %+v, want N 4, mean 1e9+10, variance 30", s)
	}
	tests := []struct {
		name   string
		values []float64
		want   Summary
	}{
		{"empty", nil, Summary{0, math.NaN(), math.NaN()}},
		{"one value", []float64{5}, Summary{1, 5, math.NaN()}},
		{"constant", []float64{2, 2, 2}, Summary{3, 2, 0}},
	}
	for _, tt := range tests {
		got := summarise(tt.values...)
		if got.N != tt.want.N || !near(got.Mean, tt.want.Mean, 0) || !near(got.Variance, tt.want.Variance, 0) {
			t.Errorf("%s: Summary = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestWelchSleep checks Welch's test against R's example
// t.test(extra ~ group, data = sleep) (Student's 1908 sleep data), whose
// printed output is
//
//	t = -1.8608, df = 17.776, p-value = 0.07939
//	95 percent confidence interval: -3.3654832  0.2054832
//	mean in group 1 0.75, mean in group 2 2.33
//
// By hand: the sample variances are 3.200556 and 4.009000, so
// se = sqrt(0.3200556 + 0.4009) = 0.849091, t = -1.58/0.849091 = -1.860813,
// df = 0.7209556² / (0.3200556²/9 + 0.4009²/9) = 17.776474.
func TestWelchSleep(t *testing.T) {
	g1 := summarise(0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0)
	g2 := summarise(1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4)
	d := Welch(g1, g2, 0.95)
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"estimate", d.Estimate, -1.58, 1e-12},
		{"se", d.SE, 0.849091, 1e-6},
		{"t", d.T, -1.8608, 5e-5},
		{"df", d.DF, 17.776, 5e-4},
		{"p", d.P, 0.07939, 5e-6},
		{"lo", d.CI.Lo, -3.3654832, 5e-8},
		{"hi", d.CI.Hi, 0.2054832, 5e-8},
	}
	for _, c := range checks {
		if !near(c.got, c.want, c.tol) {
			t.Errorf("Welch %s = %.7f, want %.7f", c.name, c.got, c.want)
		}
	}
}

func TestWelchEdges(t *testing.T) {
	tests := []struct {
		name                 string
		a, b                 Summary
		estimate, lo, hi, tt float64
		p                    float64
	}{
		{"empty arm", summarise(), summarise(1, 2), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		{"one member", summarise(3), summarise(1, 2), 1.5, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		{"zero variance, equal", summarise(0, 0, 0), summarise(0, 0), 0, 0, 0, 0, 1},
		{"zero variance, different", summarise(5, 5), summarise(2, 2, 2), 3, 3, 3, math.Inf(1), 0},
	}
	for _, tt := range tests {
		d := Welch(tt.a, tt.b, 0.95)
		if !near(d.Estimate, tt.estimate, 0) || !near(d.CI.Lo, tt.lo, 0) || !near(d.CI.Hi, tt.hi, 0) ||
			!(near(d.T, tt.tt, 0) || d.T == tt.tt) || !near(d.P, tt.p, 0) {
			t.Errorf("%s: Welch = %+v", tt.name, d)
		}
	}
	// One arm without variance: the other arm's n-1 degrees of freedom.
	if d := Welch(summarise(1, 1, 1), summarise(1, 2, 3, 4), 0.95); !near(d.DF, 3, 1e-12) {
		t.Errorf("DF with one constant arm = %v, want 3", d.DF)
	}
}

// TestMeanMDEByHand: variance 1 and 100 per arm give
// (1.959964 + 0.841621)·sqrt(2/100) = 2.801585·0.141421 = 0.396203.
func TestMeanMDEByHand(t *testing.T) {
	if got := MeanMDE(1, 100, 100, 0.05, 0.80); !near(got, 0.396203, 1e-6) {
		t.Fatalf("MeanMDE = %.6f, want 0.396203", got)
	}
	if got := MeanMDE(0, 100, 100, 0.05, 0.80); got != 0 {
		t.Fatalf("MeanMDE with zero variance = %v, want 0", got)
	}
	if got := MeanMDE(1, 0, 100, 0.05, 0.80); !math.IsNaN(got) {
		t.Fatalf("MeanMDE with an empty arm = %v, want NaN", got)
	}
	// (2·1 + 3·4) / 5 = 2.8 for variances 1 (n 3) and 4 (n 4).
	if got := PooledVariance(Summary{3, 0, 1}, Summary{4, 0, 4}); !near(got, 2.8, 1e-12) {
		t.Fatalf("PooledVariance = %v, want 2.8", got)
	}
}

// TestCUPEDExact checks CUPED on data built so that the answer is known:
// x = (1, 2, 3, 4) in both arms and y = 2x + arm effect, so y is a
// perfect line in x within each arm. Pooled over the arms, θ = 2 (the
// arms share x, so the effect adds no covariance), the adjusted outcomes
// are constant within each arm and the variance reduction is 1; the
// difference of adjusted means is the effect, 10.
func TestCUPEDExact(t *testing.T) {
	var a, b []Pair
	for x := 1.0; x <= 4; x++ {
		a = append(a, Pair{Y: 2*x + 10, X: x})
		b = append(b, Pair{Y: 2 * x, X: x})
	}
	got := CUPED(a, b)
	if !near(got.Theta, 2, 1e-12) || !near(got.VarianceReduction, 1, 1e-12) ||
		!near(got.A.Mean-got.B.Mean, 10, 1e-12) || !near(got.A.Variance, 0, 1e-12) {
		t.Fatalf("CUPED = %+v, want theta 2, reduction 1, difference 10", got)
	}
	tests := []struct {
		name      string
		a, b      []Pair
		theta     float64
		reduction float64
	}{
		{"covariate constant", []Pair{{1, 5}, {3, 5}}, []Pair{{2, 5}, {4, 5}}, 0, 0},
		{"outcome constant", []Pair{{0, 1}, {0, 2}}, []Pair{{0, 3}, {0, 4}}, 0, 0},
		{"arm of one", []Pair{{1, 1}}, []Pair{{2, 2}, {4, 3}}, 1.5, math.NaN()},
		{"empty arm", nil, []Pair{{2, 2}, {4, 3}}, 2, math.NaN()},
	}
	for _, tt := range tests {
		got := CUPED(tt.a, tt.b)
		if !near(got.Theta, tt.theta, 1e-12) || !near(got.VarianceReduction, tt.reduction, 1e-12) {
			t.Errorf("%s: CUPED = %+v, want theta %v, reduction %v", tt.name, got, tt.theta, tt.reduction)
		}
	}
}
