package stats

import (
	"math"
	"testing"
)

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

// TestWilsonPublished checks the Wilson score interval (method 3) against
// the worked examples of Newcombe, "Two-sided confidence intervals for the
// single proportion: comparison of seven methods", Statistics in Medicine
// 17:857–872 (1998), which prints 81/263 as 0.2553–0.3662.
func TestWilsonPublished(t *testing.T) {
	tests := []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
	}
	for _, tt := range tests {
		got := Wilson(tt.x, tt.n, 0.95)
		if !near(got.Lo, tt.lo, 5e-5) || !near(got.Hi, tt.hi, 5e-5) {
			t.Errorf("Wilson(%d/%d) = %.4f–%.4f, want %.4f–%.4f", tt.x, tt.n, got.Lo, got.Hi, tt.lo, tt.hi)
		}
	}
}

// TestNewcombePublished checks the hybrid score interval (method 10)
// against Table II of Newcombe, "Interval estimation for the difference
// between independent proportions: comparison of eleven methods",
// Statistics in Medicine 17:873–890 (1998), whose example (a) is
// 56/70 - 48/80 = 0.0524–0.3339. The other rows are that table's cases
// with few or no events, where the Wald interval fails.
func TestNewcombePublished(t *testing.T) {
	tests := []struct {
		x1, n1, x2, n2 int
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.0582, 0.8062},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{0, 10, 0, 10, -0.2775, 0.2775},
		{10, 10, 0, 20, 0.6791, 1.0000},
		{10, 10, 0, 10, 0.6075, 1.0000},
	}
	for _, tt := range tests {
		got := Newcombe(tt.x1, tt.n1, tt.x2, tt.n2, 0.95)
		if !near(got.Lo, tt.lo, 5e-5) || !near(got.Hi, tt.hi, 5e-5) {
			t.Errorf("Newcombe(%d/%d - %d/%d) = %.4f–%.4f, want %.4f–%.4f",
				tt.x1, tt.n1, tt.x2, tt.n2, got.Lo, got.Hi, tt.lo, tt.hi)
		}
	}
}

func TestProportionEdges(t *testing.T) {
	if got := Wilson(0, 0, 0.95); got != (Interval{0, 1}) {
		t.Errorf("Wilson(0/0) = %v, want [0, 1]", got)
	}
	if got := Wilson(7, 7, 0.95); got.Hi != 1 || got.Lo <= 0 {
		t.Errorf("Wilson(7/7) = %v, want (lo > 0, 1]", got)
	}
	if got := Newcombe(3, 10, 0, 0, 0.95); !math.IsNaN(got.Lo) || !math.IsNaN(got.Hi) {
		t.Errorf("Newcombe with an empty arm = %v, want NaN", got)
	}
	tests := []struct {
		name           string
		x1, n1, x2, n2 int
		z, p           float64
	}{
		{"no conversions", 0, 100, 0, 200, 0, 1},
		{"everyone converted", 100, 100, 200, 200, 0, 1},
		{"empty arm", 5, 100, 0, 0, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		z, p := TwoProportionZ(tt.x1, tt.n1, tt.x2, tt.n2)
		if !near(z, tt.z, 0) || !near(p, tt.p, 0) {
			t.Errorf("%s: TwoProportionZ = %v, %v; want %v, %v", tt.name, z, p, tt.z, tt.p)
		}
	}
}

// TestTwoProportionZByHand checks the pooled z test on Newcombe's example
// (a), 56/70 vs 48/80, against Pearson's chi-square computed from the 2×2
// table by the shortcut formula, which shares no step with the z formula:
//
//	table a=56 b=14 / c=48 d=32, N=150, ad-bc = 1792-672 = 1120
//	X² = N(ad-bc)² / (row1·row2·col1·col2)
//	   = 150·1120² / (70·80·104·46) = 188,160,000 / 26,790,400 = 7.023411...
//	z  = sqrt(X²) = 2.650172...,  p = erfc(z/√2) = P(χ²₁ > X²) = 0.008045...
//
// R's prop.test(c(56, 48), c(70, 80), correct = FALSE) reports this X² and
// p-value; the expected p here is computed with math.Erfc, not gonum.
func TestTwoProportionZByHand(t *testing.T) {
	chi2 := 150.0 * 1120 * 1120 / (70.0 * 80 * 104 * 46)
	wantZ := math.Sqrt(chi2)
	wantP := math.Erfc(wantZ / math.Sqrt2)
	z, p := TwoProportionZ(56, 70, 48, 80)
	if !near(z, wantZ, 1e-12) || !near(p, wantP, 1e-12) {
		t.Fatalf("TwoProportionZ = %.6f, %.6f; want %.6f, %.6f", z, p, wantZ, wantP)
	}
	if !near(chi2, 7.023411, 1e-6) || !near(p, 0.008045, 1e-6) {
		t.Fatalf("X² = %.6f, p = %.6f; the hand figures are 7.023411 and 0.008045", chi2, p)
	}
	// The sign follows p1 - p2.
	if z2, _ := TwoProportionZ(48, 80, 56, 70); !near(z2, -wantZ, 1e-12) {
		t.Fatalf("swapped arms give z = %v, want %v", z2, -wantZ)
	}
}

// TestProportionLiftByHand derives Katz's log interval for 56/70 over
// 48/80 step by step:
//
//	ratio = 0.8/0.6 = 4/3, lift = 0.333333, log ratio = 0.287682
//	se    = sqrt(0.2/(70·0.8) + 0.4/(80·0.6)) = sqrt(0.003571 + 0.008333) = 0.109109
//	log bounds = 0.287682 ∓ 1.959964·0.109109 = 0.073832, 0.501532
//	lift bounds = exp(·) - 1 = 0.076626, 0.651249
func TestProportionLiftByHand(t *testing.T) {
	lift, iv := ProportionLift(56, 70, 48, 80, 0.95)
	if !near(lift, 1.0/3, 1e-12) || !near(iv.Lo, 0.076626, 1e-6) || !near(iv.Hi, 0.651249, 1e-6) {
		t.Fatalf("ProportionLift = %.6f [%.6f, %.6f], want 0.333333 [0.076626, 0.651249]", lift, iv.Lo, iv.Hi)
	}
	tests := []struct {
		name           string
		x1, n1, x2, n2 int
		liftNaN, ivNaN bool
	}{
		{"no treated conversions", 0, 100, 5, 100, false, true},
		{"no baseline conversions", 5, 100, 0, 100, true, true},
		{"empty arm", 5, 100, 0, 0, true, true},
		{"everyone converted", 100, 100, 50, 100, false, true},
	}
	for _, tt := range tests {
		lift, iv := ProportionLift(tt.x1, tt.n1, tt.x2, tt.n2, 0.95)
		if math.IsNaN(lift) != tt.liftNaN || math.IsNaN(iv.Lo) != tt.ivNaN {
			t.Errorf("%s: ProportionLift = %v %v", tt.name, lift, iv)
		}
	}
}

// TestProportionMDE checks that the solved difference satisfies the
// sample-size equation it inverts, with the quantiles written out
// (z 0.975 = 1.959964, z 0.80 = 0.841621), that it matches an independent
// solution (Python's statistics.NormalDist and a bisection of the same
// equation give 0.021126 for a 5% baseline and 2,000 per arm; the shortcut
// 2.801585·sqrt(2·0.05·0.95/2000) would give 0.019309), and that the
// cases without an answer are NaN. Its power is checked by simulation in
// TestMDEPowerSimulation.
func TestProportionMDE(t *testing.T) {
	const za, zb = 1.959963985, 0.841621234
	tests := []struct {
		p      float64
		n1, n2 int
	}{
		{0.05, 2000, 2000},
		{0.05, 9000, 1000},
		{0.30, 500, 500},
		{0, 10000, 10000},
	}
	for _, tt := range tests {
		d := ProportionMDE(tt.p, tt.n1, tt.n2, 0.05, 0.80)
		q := tt.p + d
		f1, f2 := float64(tt.n1), float64(tt.n2)
		pbar := (f2*tt.p + f1*q) / (f1 + f2)
		rhs := za*math.Sqrt(pbar*(1-pbar)*(1/f1+1/f2)) + zb*math.Sqrt(tt.p*(1-tt.p)/f2+q*(1-q)/f1)
		if !(d > 0) || !near(d, rhs, 1e-8) {
			t.Errorf("ProportionMDE(%v, %d, %d) = %v; the equation gives %v", tt.p, tt.n1, tt.n2, d, rhs)
		}
	}
	if d := ProportionMDE(0.05, 2000, 2000, 0.05, 0.80); !near(d, 0.021126, 1e-6) {
		t.Errorf("MDE at 5%% with 2,000 per arm = %.6f, want 0.021126", d)
	}
	for _, d := range []float64{
		ProportionMDE(0.05, 0, 100, 0.05, 0.8),
		ProportionMDE(1, 100, 100, 0.05, 0.8),
		ProportionMDE(0.5, 2, 2, 0.05, 0.8), // no rate up to 1 is detectable
	} {
		if !math.IsNaN(d) {
			t.Errorf("ProportionMDE without an answer = %v, want NaN", d)
		}
	}
}

// TestSRM checks the chi-square against the hand figure: 505,000 vs
// 495,000 expected 500,000 each gives 2·5,000²/500,000 = 100, and with one
// degree of freedom P(χ²₁ > 100) = erfc(sqrt(50)) ≈ 1.5e-23.
func TestSRM(t *testing.T) {
	tests := []struct {
		name     string
		observed []int
		shares   []float64
		chi2, p  float64
	}{
		{"50.5/49.5 of a million", []int{505000, 495000}, []float64{0.5, 0.5}, 100, math.Erfc(math.Sqrt(50))},
		{"exact 50/50", []int{500000, 500000}, []float64{0.5, 0.5}, 0, 1},
		{"90/10 as configured", []int{9000, 1000}, []float64{0.9, 0.1}, 0, 1},
		{"shares not summing to 1", []int{9000, 1000}, []float64{9, 1}, 0, 1},
		{"no members", []int{0, 0}, []float64{0.9, 0.1}, 0, 1},
		{"members where none expected", []int{10, 1}, []float64{1, 0}, math.Inf(1), 0},
	}
	for _, tt := range tests {
		chi2, p := SRM(tt.observed, tt.shares)
		if !near(chi2, tt.chi2, 1e-9) && chi2 != tt.chi2 {
			t.Errorf("%s: chi2 = %v, want %v", tt.name, chi2, tt.chi2)
		}
		if !near(p, tt.p, 1e-9*tt.p+1e-300) {
			t.Errorf("%s: p = %v, want %v", tt.name, p, tt.p)
		}
	}
}

// TestSRMFlags is the check at the report's level: a 50.5/49.5
// split of 1,000,000 members configured as 50/50 is flagged, an exact
// split is not.
func TestSRMFlags(t *testing.T) {
	flagged := srmCheck(Counts{Treatment: 505000, Holdout: 495000}, 0.5)
	exact := srmCheck(Counts{Treatment: 500000, Holdout: 500000}, 0.5)
	t.Logf("SRM 505,000/495,000: chi2 = %.1f, p = %.2g, flagged = %v", *flagged.ChiSquare, flagged.P, flagged.Mismatch)
	t.Logf("SRM 500,000/500,000: chi2 = %.1f, p = %.2g, flagged = %v", *exact.ChiSquare, exact.P, exact.Mismatch)
	if !flagged.Mismatch || exact.Mismatch {
		t.Fatalf("flags: 50.5/49.5 = %v (want true), 50/50 = %v (want false)", flagged.Mismatch, exact.Mismatch)
	}
}

func TestCap(t *testing.T) {
	hundred := make([]int64, 0, 300)
	for i := int64(1); i <= 100; i++ {
		hundred = append(hundred, i*100, 0, 0) // zeros are non-buyers
	}
	tests := []struct {
		name   string
		values []int64
		q      float64
		want   int64
		ok     bool
	}{
		{"nearest rank of the positives", hundred, 0.99, 9900, true},
		{"median", []int64{5, 1, 3, 0, -2}, 0.5, 3, true},
		{"one buyer", []int64{0, 0, 700}, 0.99, 700, true},
		{"nobody spent", []int64{0, 0, -5}, 0.99, 0, false},
		{"empty", nil, 0.99, 0, false},
	}
	for _, tt := range tests {
		got, ok := Cap(tt.values, tt.q)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: Cap = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if hundred[0] != 100 || hundred[1] != 0 {
		t.Fatal("Cap reordered its input")
	}
}
