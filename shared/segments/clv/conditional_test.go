package clv

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"tailor/shared/local/dataset"
)

// cdnowCalibrationHoldout returns the 2,357 CDNOW customers' calibration
// histories from the summary file and, for each, the repeat purchases they
// made in the 39-week holdout 1997-10-01 to 1998-06-30, counted from
// CDNOW_sample.txt as distinct purchase days (the summary file has no
// holdout column).
func cdnowCalibrationHoldout(t testing.TB) ([]Customer, []float64) {
	t.Helper()
	rows, err := dataset.ReadCDNOWSummary(openCDNOW(t, "cdnow_customers_summary_with_transactions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dataset.ReadCDNOWSample(openCDNOW(t, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	txs := dataset.CDNOWTransactions(ps)
	calEnd, _ := dataset.ParseDate("1997-09-30")
	end, _ := dataset.ParseDate("1998-06-30")
	days := make(map[string]int)
	for _, c := range dataset.Summarize(txs, end) {
		days[c.CustomerID] += c.PurchaseDays
	}
	for _, c := range dataset.Summarize(txs, calEnd) {
		days[c.CustomerID] -= c.PurchaseDays
	}
	cal := make([]Customer, len(rows))
	holdout := make([]float64, len(rows))
	for i, r := range rows {
		cal[i] = Customer{X: r.X, TX: r.TX, T: r.T}
		holdout[i] = float64(days[strconv.Itoa(r.ID)])
	}
	return cal, holdout
}

// TestConditionalExpectationCDNOW reproduces the conditional-expectation
// check of Fader, Hardie & Lee (2005, figure 5, and the totals in the text):
// with the published BG/NBD parameters, the mean predicted purchases in the
// 39-week holdout of the customers who made 0, 1, ..., 6 and 7+ repeat
// purchases in calibration, beside what they actually bought.
func TestConditionalExpectationCDNOW(t *testing.T) {
	cal, holdout := cdnowCalibrationHoldout(t)
	tab, err := ConditionalExpectationTable(published, cal, holdout, 39, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		customers         int
		predicted, actual float64
	}{
		{1411, 0.225, 0.237}, {439, 0.523, 0.697}, {214, 1.044, 1.393}, {100, 1.520, 1.560},
		{62, 2.164, 2.532}, {38, 2.654, 2.947}, {29, 3.504, 3.862}, {64, 6.157, 6.359},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tab.Rows), len(want))
	}
	within := func(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }
	for i, w := range want {
		row := tab.Rows[i]
		t.Logf("x=%d (or more: %v) n=%d predicted %.3f actual %.3f", row.X, row.OrMore, row.Customers, row.Predicted, row.Actual)
		if row.X != i || row.OrMore != (i == 7) || row.Customers != w.customers {
			t.Errorf("row %d: %+v, want x=%d with %d customers", i, row, i, w.customers)
		}
		if !within(row.Predicted, w.predicted, 0.01) {
			t.Errorf("x=%d: predicted %.4f, published %v", i, row.Predicted, w.predicted)
		}
		// The actual means are exact counts over published group sizes:
		// they must agree to the three decimals printed.
		if math.Abs(row.Actual-w.actual) > 0.0005 {
			t.Errorf("x=%d: actual %.4f, published %v", i, row.Actual, w.actual)
		}
	}
	t.Logf("total predicted %.1f, actual %.0f", tab.Predicted, tab.Actual)
	if !within(tab.Predicted, 1653.9, 0.01) || tab.Actual != 1882 || !tab.HasActual {
		t.Errorf("totals: predicted %.2f (published 1,653.9), actual %v (published 1,882)", tab.Predicted, tab.Actual)
	}
}

func TestConditionalExpectationTableShape(t *testing.T) {
	cal := []Customer{{X: 0, T: 10}, {X: 3, TX: 5, T: 10}, {X: 9, TX: 9, T: 10}}
	tab, err := ConditionalExpectationTable(published, cal, nil, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 3 || tab.HasActual || tab.Actual != 0 {
		t.Fatalf("table %+v", tab)
	}
	// x = 3 and x = 9 both fall in the open-ended "2+" row; x = 1 is empty.
	if tab.Rows[1].Customers != 0 || tab.Rows[1].Predicted != 0 || tab.Rows[2].Customers != 2 || !tab.Rows[2].OrMore {
		t.Errorf("rows %+v", tab.Rows)
	}
	var sum float64
	for _, c := range cal {
		e, _ := published.ExpectedPurchases(c, 5)
		sum += e
	}
	if math.Abs(sum-tab.Predicted) > 1e-12 {
		t.Errorf("total predicted %v, sum of predictions %v", tab.Predicted, sum)
	}
	bad := []struct {
		name    string
		holdout []float64
		t       float64
		last    int
	}{
		{"holdout length", []float64{1}, 5, 2},
		{"negative holdout", []float64{0, -1, 2}, 5, 2},
		{"negative horizon", nil, -1, 2},
		{"negative last group", nil, 5, -1},
	}
	for _, b := range bad {
		if _, err := ConditionalExpectationTable(published, cal, b.holdout, b.t, b.last); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", b.name, err)
		}
	}
}
