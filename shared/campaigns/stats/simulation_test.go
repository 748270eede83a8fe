package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The simulations are seeded, so every run prints the same figures;
// docs/campaigns.md quotes them.

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// binomial draws a Binomial(n, p) count member by member, as a campaign
// would see it.
func binomial(r *rand.Rand, n int, p float64) int {
	c := 0
	for range n {
		if r.Float64() < p {
			c++
		}
	}
	return c
}

const (
	simRuns   = 2000
	simPerArm = 2000
	simBase   = 0.05
	simLift   = 0.02
)

// TestAAFalsePositiveRate: with no true effect the z test must call 5% of
// campaigns significant at α = 0.05, no more (a tool that cries wolf) and
// not far fewer (a test too conservative to find real effects).
func TestAAFalsePositiveRate(t *testing.T) {
	r := newRand(1)
	zHits, ciHits := 0, 0
	for range simRuns {
		x1, x2 := binomial(r, simPerArm, simBase), binomial(r, simPerArm, simBase)
		if _, p := TwoProportionZ(x1, simPerArm, x2, simPerArm); p < 0.05 {
			zHits++
		}
		if iv := Newcombe(x1, simPerArm, x2, simPerArm, 0.95); iv.Lo > 0 || iv.Hi < 0 {
			ciHits++
		}
	}
	rate := float64(zHits) / simRuns
	t.Logf("A/A, %d campaigns of %d per arm at %.0f%%: z test significant at 0.05 in %d (%.2f%%); Newcombe 95%% interval excludes 0 in %d (%.2f%%)",
		simRuns, simPerArm, simBase*100, zHits, rate*100, ciHits, float64(ciHits)/simRuns*100)
	if rate < 0.035 || rate > 0.065 {
		t.Fatalf("false-positive rate %.4f outside [0.035, 0.065]", rate)
	}
}

// TestNewcombeCoverage: with a true lift of 2 points the 95% interval must
// contain the true difference in about 95% of campaigns.
func TestNewcombeCoverage(t *testing.T) {
	r := newRand(2)
	covered, detected := 0, 0
	for range simRuns {
		x1 := binomial(r, simPerArm, simBase+simLift)
		x2 := binomial(r, simPerArm, simBase)
		if iv := Newcombe(x1, simPerArm, x2, simPerArm, 0.95); iv.Lo <= simLift && simLift <= iv.Hi {
			covered++
		}
		if _, p := TwoProportionZ(x1, simPerArm, x2, simPerArm); p < 0.05 {
			detected++
		}
	}
	coverage := float64(covered) / simRuns
	t.Logf("+%.0f points on %.0f%%, %d campaigns of %d per arm: Newcombe 95%% interval covers the true difference in %d (%.2f%%); z test detects it in %d (%.2f%%)",
		simLift*100, simBase*100, simRuns, simPerArm, covered, coverage*100, detected, float64(detected)/simRuns*100)
	if coverage < 0.935 || coverage > 0.965 {
		t.Fatalf("coverage %.4f outside [0.935, 0.965]", coverage)
	}
}

// TestMDEPowerSimulation: a true effect equal to the reported MDE must be
// detected in about 80% of campaigns, or the MDE misleads the planner.
func TestMDEPowerSimulation(t *testing.T) {
	mde := ProportionMDE(simBase, simPerArm, simPerArm, Alpha, Power)
	r := newRand(3)
	detected := 0
	for range simRuns {
		x1 := binomial(r, simPerArm, simBase+mde)
		x2 := binomial(r, simPerArm, simBase)
		if _, p := TwoProportionZ(x1, simPerArm, x2, simPerArm); p < Alpha {
			detected++
		}
	}
	power := float64(detected) / simRuns
	t.Logf("MDE at %.0f%% with %d per arm = %.4f (%.1f%% relative); a true effect of that size detected in %d of %d campaigns (%.2f%%)",
		simBase*100, simPerArm, mde, mde/simBase*100, detected, simRuns, power*100)
	if power < 0.77 || power > 0.83 {
		t.Fatalf("power at the MDE %.4f outside [0.77, 0.83]", power)
	}
}

// cupedCampaign is an A/A campaign whose members' pre-period spend x and
// window spend y are bivariate normal (mean 10,000, sd 2,000 minor units)
// with correlation rho, so the theoretical variance reduction is rho².
func cupedCampaign(r *rand.Rand, perArm int, rho float64) Input {
	in := Input{HoldoutShare: 0.5, Closed: true, Members: make([]Observation, 0, 2*perArm)}
	for i := range 2 * perArm {
		z1, z2 := r.NormFloat64(), r.NormFloat64()
		x := 10000 + 2000*z1
		y := 10000 + 2000*(rho*z1+math.Sqrt(1-rho*rho)*z2)
		arm := Treatment
		if i%2 == 1 {
			arm = Holdout
		}
		in.Members = append(in.Members, Observation{Arm: arm, Converted: y > 0, Revenue: int64(math.Round(y)), PreSpend: int64(math.Round(x))})
	}
	return in
}

// TestCUPEDVarianceReduction runs CUPED through BuildReport (capping
// included) on campaigns with a pre/post correlation of 0.5: the variance
// reduction must be within 5 points of the theoretical 25% in every one.
func TestCUPEDVarianceReduction(t *testing.T) {
	const campaigns, rho = 20, 0.5
	r := newRand(4)
	var got []float64
	for range campaigns {
		rep, err := BuildReport(cupedCampaign(r, simPerArm, rho))
		if err != nil {
			t.Fatal(err)
		}
		vr := *rep.CUPED.VarianceReduction
		got = append(got, vr)
		if math.Abs(vr-rho*rho) > 0.05 {
			t.Errorf("variance reduction %.4f, want within 0.05 of %.2f", vr, rho*rho)
		}
	}
	mean := 0.0
	for _, v := range got {
		mean += v / campaigns
	}
	t.Logf("CUPED, correlation %.1f, %d campaigns of %d per arm: variance reduction mean %.2f%%, min %.2f%%, max %.2f%% (theory %.0f%%)",
		rho, campaigns, simPerArm, mean*100, slices.Min(got)*100, slices.Max(got)*100, rho*rho*100)
}

// retailCampaign is an A/A campaign shaped like retail data: 30% of
// members bought in the 90 days before (log-normal spend, a few very
// large), and those are three times as likely to buy in the window, with
// spend that follows their earlier spend.
func retailCampaign(r *rand.Rand, perArm int) Input {
	in := Input{HoldoutShare: 0.5, Closed: true, Members: make([]Observation, 0, 2*perArm)}
	for i := range 2 * perArm {
		taste := r.NormFloat64()
		var pre, rev int64
		rate := 0.03
		if r.Float64() < 0.3 {
			pre = int64(math.Exp(8 + 1.2*taste))
			rate = 0.09
		}
		converted := r.Float64() < rate
		if converted {
			rev = int64(math.Exp(7.5 + 0.8*taste + 0.8*r.NormFloat64()))
		}
		arm := Treatment
		if i%2 == 1 {
			arm = Holdout
		}
		in.Members = append(in.Members, Observation{Arm: arm, Converted: converted, Revenue: rev, PreSpend: pre})
	}
	return in
}

// TestAARevenueSimulation runs whole reports on skewed, retail-like A/A
// campaigns: the capped and the CUPED revenue comparisons, and the
// conversion test, must each be significant in about 5% of them.
func TestAARevenueSimulation(t *testing.T) {
	const campaigns = 1000
	r := newRand(5)
	var conv, raw, cuped int
	var reduction float64
	for range campaigns {
		rep, err := BuildReport(retailCampaign(r, simPerArm))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			hit bool
			n   *int
		}{{rep.Conversion.Significant, &conv}, {rep.Revenue.Significant, &raw}, {rep.CUPED.Significant, &cuped}} {
			if c.hit {
				*c.n++
			}
		}
		reduction += *rep.CUPED.VarianceReduction / campaigns
	}
	t.Logf("retail-like A/A, %d campaigns of %d per arm: significant at 0.05 — conversion %.1f%%, capped revenue %.1f%%, CUPED revenue %.1f%%; mean CUPED variance reduction %.1f%%",
		campaigns, simPerArm, float64(conv)/campaigns*100, float64(raw)/campaigns*100, float64(cuped)/campaigns*100, reduction*100)
	for name, n := range map[string]int{"conversion": conv, "revenue": raw, "CUPED revenue": cuped} {
		if rate := float64(n) / campaigns; rate < 0.03 || rate > 0.07 {
			t.Errorf("%s false-positive rate %.3f outside [0.03, 0.07]", name, rate)
		}
	}
}
