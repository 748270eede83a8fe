package segments

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestRunRecoversGenerativeParameters runs the whole pipeline on customers
// drawn from the BG/NBD and Gamma-Gamma processes with known parameters and
// checks the fits land near them.
func TestRunRecoversGenerativeParameters(t *testing.T) {
	customers := synthetic(20000, 11)
	rec, scores, err := Run(customers, RunOptions{AsOf: "1997-09-30", Unit: Week, KMeans: KMeansOptions{K: 4, Seed: 1}, MonthlyDiscount: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
		rel       float64
	}{
		{"r", rec.BGNBD.R, 0.243, 0.15},
		{"alpha (weeks)", rec.BGNBD.Alpha, 4.414, 0.15},
		{"a", rec.BGNBD.A, 0.793, 0.3},
		{"b", rec.BGNBD.B, 2.426, 0.4},
		{"p", rec.GammaGamma.P, 6.25, 0.2},
		{"q", rec.GammaGamma.Q, 3.74, 0.2},
		{"v", rec.GammaGamma.V, 15.44, 0.25},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > c.rel*c.want {
			t.Errorf("%s = %.4g, generated with %v", c.name, c.got, c.want)
		}
	}
	if rec.Customers != len(customers) || len(scores) != len(customers) {
		t.Fatalf("%d customers, %d scores", rec.Customers, len(scores))
	}
	var segTotal int64
	for _, s := range rec.RFM.Segments {
		segTotal += s.Customers
	}
	var clusterTotal int64
	for _, s := range rec.Clusters.Sizes {
		clusterTotal += s
	}
	if segTotal != int64(len(customers)) || clusterTotal != int64(len(customers)) || len(rec.Clusters.Descriptions) != 4 {
		t.Errorf("segments hold %d, clusters %d, descriptions %v", segTotal, clusterTotal, rec.Clusters.Descriptions)
	}
	for _, s := range scores {
		if !(s.PAlive >= 0 && s.PAlive <= 1) || !(s.CLV >= 0) || math.IsInf(s.CLV, 0) || s.ChurnRisk == "" {
			t.Fatalf("bad score %+v", s)
		}
	}
	q := rec.CLV.Quantiles
	if !(q["p10"] <= q["p50"] && q["p50"] <= q["p90"] && q["p90"] <= q["max"] && rec.CLV.Mean > 0) {
		t.Errorf("CLV distribution %+v", rec.CLV)
	}
	if _, err := json.Marshal(rec); err != nil {
		t.Errorf("run record does not encode: %v", err)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   []Customer
		opts RunOptions
		want error
	}{
		{"no customers", nil, RunOptions{}, ErrNoData},
		{"recency after age", []Customer{{CustomerID: "a", PurchaseDays: 2, RecencyDays: 9, AgeDays: 3}}, RunOptions{}, ErrInvalid},
		{"bad unit", synthetic(10, 1), RunOptions{Unit: "month"}, ErrInvalid},
	}
	for _, tt := range tests {
		if _, _, err := Run(tt.in, tt.opts); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
