package stats

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// arm returns n members of one arm, the first converters of whom spent
// revenue; every member spent pre before launch.
func arm(a Arm, n, converters int, revenue, pre int64) []Observation {
	out := make([]Observation, n)
	for i := range out {
		out[i] = Observation{Arm: a, PreSpend: pre}
		if i < converters {
			out[i].Converted, out[i].Revenue = true, revenue
		}
	}
	return out
}

// encode marshals r (which fails on any NaN or infinity) and decodes it
// into generic JSON, so tests can look fields up by their JSON names.
func encode(t *testing.T, r Report) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("report does not encode: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// field returns the value at a dotted JSON path and whether it exists.
func field(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// TestBuildReportEdges pins what the degenerate campaigns report: every
// report encodes, undefined figures are null (never missing, never NaN),
// and the defined ones have the documented values.
func TestBuildReportEdges(t *testing.T) {
	join := func(parts ...[]Observation) []Observation {
		var out []Observation
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		in   Input
		// want maps a JSON path to its value; nil means null.
		want map[string]any
	}{
		{"no members", Input{HoldoutShare: 0.1}, map[string]any{
			"provisional": true, "srm.p_value": 1.0, "srm.mismatch": false, "srm.observed_holdout_share": nil,
			"conversion.treatment.rate.value": nil, "conversion.difference.value": nil, "conversion.p_value": nil,
			"conversion.significant": false, "revenue_per_member.treatment.mean_minor": nil,
			"revenue_per_member.cap_minor": nil, "revenue_per_member_cuped.variance_reduction": nil,
			"incremental.conversions.value": nil, "incremental.revenue.value_minor": nil,
			"cost_minor": nil, "roi.value": nil, "mde.conversion_absolute": nil, "mde.revenue_per_member_minor": nil,
		}},
		{"empty holdout", Input{HoldoutShare: 0.1, Members: arm(Treatment, 10, 3, 1000, 0)}, map[string]any{
			"members.treatment": 10.0, "members.holdout": 0.0, "srm.mismatch": false,
			"conversion.treatment.rate.value": 0.3, "conversion.holdout.rate.value": nil,
			"conversion.difference.low": nil, "conversion.z": nil, "conversion.relative_lift.value": nil,
			"revenue_per_member.treatment.mean_minor": 300.0, "revenue_per_member.holdout.mean_minor": nil,
			"revenue_per_member.difference_minor.value": nil, "incremental.revenue.value_minor": nil,
			"mde.conversion_absolute": nil,
		}},
		{"zero conversions", Input{HoldoutShare: 0.5, Cost: 5000, Closed: true,
			Members: join(arm(Treatment, 100, 0, 0, 0), arm(Holdout, 100, 0, 0, 0))}, map[string]any{
			"provisional": false, "conversion.difference.value": 0.0, "conversion.z": 0.0, "conversion.p_value": 1.0,
			"conversion.relative_lift.value": nil, "conversion.holdout.rate.low": 0.0,
			"revenue_per_member.cap_minor": nil, "revenue_per_member.difference_minor.value": 0.0,
			"revenue_per_member.difference_minor.low": 0.0, "revenue_per_member.p_value": 1.0,
			"revenue_per_member_cuped.theta": 0.0, "revenue_per_member_cuped.variance_reduction": 0.0,
			"incremental.revenue.value_minor": 0.0, "incremental.revenue.high_minor": 0.0,
			"cost_minor": 5000.0, "roi.value": -1.0, "roi.low": -1.0, "roi.high": -1.0,
			"mde.conversion_relative": nil, "mde.revenue_per_member_minor": 0.0,
		}},
		{"zero variance", Input{HoldoutShare: 0.5,
			Members: join(arm(Treatment, 40, 40, 500, 200), arm(Holdout, 40, 40, 500, 200))}, map[string]any{
			"conversion.treatment.rate.high": 1.0, "conversion.difference.value": 0.0, "conversion.p_value": 1.0,
			"conversion.relative_lift.value": 0.0, "conversion.relative_lift.low": nil,
			"revenue_per_member.cap_minor": 500.0, "revenue_per_member.capped_members": 0.0,
			"revenue_per_member.treatment.sd_minor": 0.0, "revenue_per_member.df": nil,
			"revenue_per_member.t": 0.0, "revenue_per_member.p_value": 1.0,
			"revenue_per_member_cuped.theta": 0.0, "revenue_per_member_cuped.variance_reduction": 0.0,
			"mde.conversion_absolute": nil, "mde.revenue_per_member_minor": 0.0,
		}},
		{"no cost", Input{HoldoutShare: 0.5,
			Members: join(arm(Treatment, 100, 10, 900, 50), arm(Holdout, 100, 5, 800, 60))}, map[string]any{
			"cost_minor": nil, "roi.value": nil, "roi.low": nil, "roi.high": nil,
			"incremental.conversions.value": 5.0,
		}},
		{"one member per arm", Input{HoldoutShare: 0.5,
			Members: join(arm(Treatment, 1, 1, 700, 0), arm(Holdout, 1, 0, 0, 0))}, map[string]any{
			"conversion.difference.value": 1.0, "revenue_per_member.difference_minor.value": 700.0,
			"revenue_per_member.difference_minor.low": nil, "revenue_per_member.p_value": nil,
			"revenue_per_member.treatment.sd_minor": nil, "revenue_per_member_cuped.variance_reduction": nil,
			"revenue_per_member.significant": false, "mde.revenue_per_member_minor": nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := BuildReport(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			m := encode(t, r)
			for path, want := range tt.want {
				got, ok := field(m, path)
				if !ok {
					t.Errorf("%s is missing", path)
					continue
				}
				if g, isNum := got.(float64); isNum && want != nil {
					if w, _ := want.(float64); math.Abs(g-w) > 1e-12 {
						t.Errorf("%s = %v, want %v", path, got, want)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %v, want %v", path, got, want)
				}
			}
		})
	}
}

// TestBuildReportConsistent checks a campaign with an effect and a cost:
// the report's figures are the package's functions applied to the counts,
// the incremental figures scale the differences by the treated arm, ROI
// follows from the incremental revenue, and capping counts the members
// above the cap.
func TestBuildReportConsistent(t *testing.T) {
	r := newRand(6)
	in := Input{HoldoutShare: 0.2, Cost: 200_000}
	for i := range 5000 {
		o := Observation{Arm: Treatment, PreSpend: int64(r.IntN(20000))}
		rate := 0.08
		if i%5 == 0 {
			o.Arm, rate = Holdout, 0.05
		}
		if r.Float64() < rate {
			o.Converted = true
			o.Revenue = 1000 + o.PreSpend/2 + int64(r.IntN(4000))
			if r.IntN(100) == 0 {
				o.Revenue *= 50 // a wholesale order
			}
		}
		in.Members = append(in.Members, o)
	}
	rep, err := BuildReport(in)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conversion
	nT, nH := rep.Members.Treatment, rep.Members.Holdout
	xT, xH := c.Treatment.Conversions, c.Holdout.Conversions
	if nT != 4000 || nH != 1000 || c.Treatment.Members != nT {
		t.Fatalf("members %d/%d, want 4000/1000", nT, nH)
	}
	wantCI := Newcombe(xT, nT, xH, nH, Confidence)
	_, wantP := TwoProportionZ(xT, nT, xH, nH)
	if *c.Difference.Low != wantCI.Lo || *c.Difference.High != wantCI.Hi || *c.P != wantP {
		t.Errorf("conversion difference %v–%v p %v, want %v p %v", *c.Difference.Low, *c.Difference.High, *c.P, wantCI, wantP)
	}
	if got, want := *rep.Incremental.Conversions.Value, *c.Difference.Value*float64(nT); math.Abs(got-want) > 1e-9 {
		t.Errorf("incremental conversions %v, want %v", got, want)
	}
	if got, want := *rep.Incremental.Conversions.Low, wantCI.Lo*float64(nT); math.Abs(got-want) > 1e-9 {
		t.Errorf("incremental conversions low %v, want %v", got, want)
	}
	inc := *rep.CUPED.Difference.Value * float64(nT)
	if got := *rep.Incremental.Revenue.Value; got != int64(math.Round(inc)) {
		t.Errorf("incremental revenue %d, want %v", got, inc)
	}
	if got, want := *rep.ROI.Value, (inc-200_000)/200_000; math.Abs(got-want) > 1e-12 {
		t.Errorf("ROI %v, want %v", got, want)
	}
	if got, want := *rep.ROI.Low, (*rep.CUPED.Difference.Low*float64(nT)-200_000)/200_000; math.Abs(got-want) > 1e-12 {
		t.Errorf("ROI low %v, want %v", got, want)
	}
	capped := 0
	for _, o := range in.Members {
		if o.Revenue > *rep.Revenue.Cap {
			capped++
		}
	}
	if rep.Revenue.Capped != capped || capped == 0 {
		t.Errorf("capped members %d, counted %d (want > 0)", rep.Revenue.Capped, capped)
	}
	if !rep.Provisional || rep.SRM.Mismatch {
		t.Errorf("provisional %v, SRM mismatch %v; want true, false", rep.Provisional, rep.SRM.Mismatch)
	}
	if *rep.CUPED.VarianceReduction <= 0 {
		t.Errorf("CUPED variance reduction %v, want > 0 with revenue following pre-spend", *rep.CUPED.VarianceReduction)
	}
	t.Logf("example: conversion %.2f%% vs %.2f%%, difference %.4f [%.4f, %.4f] p %.2g; revenue/member %.0f vs %.0f minor (cap %d, %d capped); CUPED difference %.0f [%.0f, %.0f], variance reduction %.1f%%; incremental revenue %d [%d, %d]; ROI %.2f",
		*c.Treatment.Rate.Value*100, *c.Holdout.Rate.Value*100, *c.Difference.Value, wantCI.Lo, wantCI.Hi, wantP,
		*rep.Revenue.Treatment.Mean, *rep.Revenue.Holdout.Mean, *rep.Revenue.Cap, capped,
		*rep.CUPED.Difference.Value, *rep.CUPED.Difference.Low, *rep.CUPED.Difference.High, *rep.CUPED.VarianceReduction*100,
		*rep.Incremental.Revenue.Value, *rep.Incremental.Revenue.Low, *rep.Incremental.Revenue.High, *rep.ROI.Value)
}

func TestBuildReportInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"no holdout", Input{HoldoutShare: 0}},
		{"all held out", Input{HoldoutShare: 1}},
		{"NaN share", Input{HoldoutShare: math.NaN()}},
		{"negative cost", Input{HoldoutShare: 0.1, Cost: -1}},
		{"unknown arm", Input{HoldoutShare: 0.1, Members: []Observation{{Arm: "control"}}}},
	}
	for _, tt := range tests {
		if _, err := BuildReport(tt.in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", tt.name, err)
		}
	}
}
