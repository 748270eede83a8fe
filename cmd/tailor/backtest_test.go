package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"tailor/shared/local/dataset/datasettest"
)

// TestBacktestCDNOW runs tailor backtest on the CDNOW sample with the
// paper's calibration and holdout (to 1997-09-30, 39 weeks to 1998-06-30)
// and checks the conditional expectation by calibration frequency against
// Fader, Hardie & Lee (2005): the fitted BG/NBD's predictions within 1% of
// the published parameters', and the actual holdout purchases exactly.
func TestBacktestCDNOW(t *testing.T) {
	path := datasettest.Path(t, "cdnow", "CDNOW_sample.txt")
	args := []string{"--transactions", path, "--format", "cdnow", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--model", "bgnbd"}
	var out bytes.Buffer
	if err := backtestMain(context.Background(), append(args, "--json"), &out); err != nil {
		t.Fatal(err)
	}
	var res backtestOutput
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	r := res.Reports[0]
	predicted := []float64{0.225, 0.523, 1.044, 1.520, 2.164, 2.654, 3.504, 6.157}
	actual := []float64{0.237, 0.697, 1.393, 1.560, 2.532, 2.947, 3.862, 6.359}
	sizes := []int{1411, 439, 214, 100, 62, 38, 29, 64}
	if r.Customers != 2357 || r.Horizon != 39 || len(r.Purchases.ByFrequency) != 8 {
		t.Fatalf("report %+v", r)
	}
	for x, g := range r.Purchases.ByFrequency {
		if g.Customers != sizes[x] || math.Abs(g.Predicted-predicted[x]) > 0.01*predicted[x] || math.Abs(g.Actual-actual[x]) > 0.0005 {
			t.Errorf("x=%d: %+v; want %d customers, predicted %v, actual %v", x, g, sizes[x], predicted[x], actual[x])
		}
	}
	if r.Purchases.Actual != 1882 || math.Abs(r.Purchases.Predicted-1653.9) > 16.5 {
		t.Errorf("totals %v predicted, %v actual; want about 1,653.9 and 1,882", r.Purchases.Predicted, r.Purchases.Actual)
	}
	if !(r.Churn.AUC > 0.7) || !(r.Churn.Skill > 0.15) {
		t.Errorf("churn %+v", r.Churn)
	}
	out.Reset()
	if err := backtestMain(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== bgnbd ==", "AUC", "calibration x", "7+", "decile of predicted spend", "Spearman"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBacktestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--transactions", "x", "--calibration-end", "2011-08-31"},
		{"--transactions", "x", "--calibration-end", "2011-08-31", "--holdout-end", "2011-08-01"},
		{"--transactions", "x", "--calibration-end", "2011-08-31", "--holdout-end", "2011-12-09", "--model", "magic"},
		{"--transactions", "x", "--calibration-end", "2011-08-31", "--holdout-end", "2011-12-09", "--unit", "month"},
	} {
		if err := backtestMain(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
