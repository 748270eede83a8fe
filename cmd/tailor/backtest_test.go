package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"tailor/shared/local/dataset"
	"tailor/shared/local/dataset/datasettest"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
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

func TestPurchaseDays(t *testing.T) {
	txs := []dataset.Transaction{
		{CustomerID: "a", Date: 10, Amount: 500},
		{CustomerID: "a", Date: 10, Amount: 250},  // same day: merged
		{CustomerID: "a", Date: 3, Amount: 0},     // a free item is a purchase
		{CustomerID: "a", Date: 12, Amount: -100}, // a refund is not
		{CustomerID: "a", Date: 15, Amount: 100},  // after the end
		{CustomerID: "b", Date: 14, Amount: 700},
	}
	got := purchaseDays(txs, 14, segments.TimeUnit("week"))
	want := map[string][]clv.PurchaseDay{
		"a": {{Ago: 11.0 / 7, Spend: 0}, {Ago: 4.0 / 7, Spend: 7.5}},
		"b": {{Ago: 0, Spend: 7}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("purchaseDays = %v, want %v", got, want)
	}
	// The days are the history Summarize gives the purchase models.
	for _, c := range backtestCustomers(txs, 14, 20, segments.TimeUnit("week")) {
		if len(c.Features.Days) != c.Cal.X+1 || c.Features.Days[0].Ago != c.Cal.T {
			t.Errorf("customer %s: days %v for history %+v", c.ID, c.Features.Days, c.Cal)
		}
	}
}

// TestBacktestBoost runs the boosted churn model through the command on
// simulated buyers, each with an exponentially distributed purchase rate
// and a chance of dropping out after each purchase: it must be weighed by
// the automatic choice and rank the holdout's churners well above chance.
func TestBacktestBoost(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	b.WriteString("customer_id,date,amount\n")
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := range 400 {
		gap, drop := 30*rng.ExpFloat64(), 0.3*rng.Float64()
		for day := float64(rng.IntN(200)); day < 490; day += 1 + rng.ExpFloat64()*gap {
			fmt.Fprintf(&b, "c%d,%s,%d.%02d\n", id, start.AddDate(0, 0, int(day)).Format(time.DateOnly), 10+rng.IntN(90), rng.IntN(100))
			if rng.Float64() < drop {
				break
			}
		}
	}
	path := filepath.Join(t.TempDir(), "tx.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--transactions", path, "--calibration-end", "2021-02-04", "--holdout-end", "2021-05-05", "--json"}
	for _, model := range []string{"boost", "auto"} {
		var out bytes.Buffer
		if err := backtestMain(context.Background(), append(args, "--model", model), &out); err != nil {
			t.Fatal(err)
		}
		var res backtestOutput
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if model == "auto" {
			if s := res.Selection; s == nil || len(s.Candidates) != 5 || s.Candidates[4].Model != "boost" || s.Candidates[4].Err != "" {
				t.Errorf("selection %+v", res.Selection)
			}
			continue
		}
		r := res.Reports[0]
		t.Logf("%s: AUC %.4f, Brier %.1f%% better than the base rate", r.Model, r.Churn.AUC, 100*r.Churn.Skill)
		if r.Model != "boost" || !(r.Churn.AUC > 0.75) || !(r.Churn.Skill > 0.1) {
			t.Errorf("report %s: churn %+v", r.Model, r.Churn)
		}
	}
}
