package service

import (
	"os"
	"slices"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/local/dataset"
	"tailor/shared/local/dataset/datasettest"
	"tailor/shared/segments"
)

// retailRows reads every classified row of the Online Retail file.
func retailRows(t *testing.T) []dataset.RetailRecord {
	t.Helper()
	f, err := os.Open(datasettest.Path(t, "online_retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []dataset.RetailRecord
	if err := dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// lowerQuintiles is an independent nearest-rank quintile computation on a
// sorted copy: cut i is the value at 1-based rank ceil(i·n/5).
func lowerQuintiles(v []int64) [4]int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	var c [4]int64
	for i := range 4 {
		rank := ((i+1)*len(s) + 4) / 5
		c[i] = s[rank-1]
	}
	return c
}

// TestOnlineRetailMatchesIndependentRFM runs the job's pure core on
// customer aggregates folded from Online Retail purchase events (the
// aggregate fold ingestion uses), as of the data's last day, 2011-12-09,
// and checks the RFM cut points and segment sizes against a direct
// computation from the CSV rows that counts the purchases of the as-of day.
//
// Cleaning: rows without a customer, cancellations, non-positive
// quantities or prices, and non-product stock codes (postage, fees,
// manual adjustments; docs/data-cleaning.md) yield no purchase. The data
// README's 4,338 customers keep a valid purchase before the non-product
// codes are dropped; dropping them leaves 4,334: four customers bought
// only postage or manual items.
func TestOnlineRetailMatchesIndependentRFM(t *testing.T) {
	rows := retailRows(t)
	asOf := time.Date(2011, 12, 9, 0, 0, 0, 0, time.UTC)

	// The data README's count, before non-product codes are dropped.
	readme := map[string]bool{}
	for _, r := range rows {
		if r.Kind == dataset.RowPurchase || (r.Reason == dataset.SkipNonProduct && r.Quantity > 0 && r.InvoiceNo[0] != 'C') {
			readme[r.CustomerID] = true
		}
	}
	if len(readme) != 4338 {
		t.Errorf("%d customers keep a valid purchase before dropping non-product codes, want 4,338", len(readme))
	}

	// Through the aggregates: purchase events folded per customer.
	byCustomer := map[string][]events.Event{}
	for _, r := range rows {
		if r.Kind != dataset.RowPurchase {
			continue
		}
		byCustomer[r.CustomerID] = append(byCustomer[r.CustomerID], events.Event{ID: "or-" + r.InvoiceNo, Type: events.Purchase,
			CustomerID: r.CustomerID, ItemID: r.StockCode, Quantity: r.Quantity, PriceMinor: r.UnitPriceMinor, Currency: "GBP",
			OrderID: r.InvoiceNo, Time: r.Time})
	}
	var records []segments.CustomerDays
	for id, evs := range byCustomer {
		records = append(records, segments.CustomerDays{CustomerID: id, Days: customers.Fold(evs).PurchaseDays})
	}
	plan, err := NewPlan(asOf, segments.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, byCurrency, err := Summarise(records, plan)
	if err != nil {
		t.Fatal(err)
	}
	cur, choice := s.Choose(plan.Config.Currency)
	if cur != "GBP" || choice != segments.CurrencyDominant || len(s.Currencies) != 1 {
		t.Fatalf("currency %q (%s) of %v; want GBP, the only one", cur, choice, s.Currencies)
	}
	p, kept := s.Counts(cur), byCurrency[cur]
	m, err := Fit(p, InCurrency(plan, cur))
	if err != nil {
		t.Fatal(err)
	}
	for !m.Done {
		if err := Update(m, Assign(kept, m)); err != nil {
			t.Fatal(err)
		}
	}
	_, tally, err := Score(kept, m)
	if err != nil {
		t.Fatal(err)
	}
	rec := Finish(m, p, tally)

	// Directly from the rows: distinct UTC purchase days and spend.
	type acc struct {
		days  map[int]bool
		spend int64
	}
	direct := map[string]*acc{}
	end := int(asOf.Unix() / 86400)
	onAsOfDay := 0
	for _, r := range rows {
		if r.Kind != dataset.RowPurchase || r.Time.Unix()/86400 > int64(end) {
			continue
		}
		if r.Time.Unix()/86400 == int64(end) {
			onAsOfDay++
		}
		a := direct[r.CustomerID]
		if a == nil {
			a = &acc{days: map[int]bool{}}
			direct[r.CustomerID] = a
		}
		a.days[int(r.Time.Unix()/86400)] = true
		a.spend += r.Quantity * r.UnitPriceMinor
	}
	var rec_, freq, mon []int64
	inputs := map[string]segments.RFMInput{}
	for id, a := range direct {
		last := 0
		for d := range a.days {
			last = max(last, d)
		}
		in := segments.RFMInput{CustomerID: id, RecencyDays: end - last, Frequency: len(a.days), Monetary: a.spend}
		inputs[id] = in
		rec_ = append(rec_, int64(in.RecencyDays))
		freq = append(freq, int64(in.Frequency))
		mon = append(mon, segments.QuantizeMoney(in.Monetary))
	}
	if len(direct) != 4334 || rec.Customers != 4334 || rec.Scanned != 4334 {
		t.Fatalf("customers: direct %d, job %d of %d scanned; want 4,334", len(direct), rec.Customers, rec.Scanned)
	}
	if onAsOfDay == 0 {
		t.Fatal("no purchase on the as-of day: the test does not check that they count")
	}
	want := segments.RFMCuts{Recency: lowerQuintiles(rec_), Frequency: lowerQuintiles(freq), Monetary: lowerQuintiles(mon)}
	if rec.Model.RFM.Cuts != want {
		t.Errorf("cut points %+v, independent %+v", rec.Model.RFM.Cuts, want)
	}
	sizes := map[string]int64{}
	for _, in := range inputs {
		s, err := segments.SegmentOf(want.Score(in))
		if err != nil {
			t.Fatal(err)
		}
		sizes[s.Slug()]++
	}
	for _, s := range rec.Segments {
		if s.Customers != sizes[s.Segment] {
			t.Errorf("%s: %d customers, independent %d", s.Name, s.Customers, sizes[s.Segment])
		}
	}
	t.Logf("cuts %+v; k = %d; BG/NBD %+v; Gamma-Gamma %+v", rec.Model.RFM.Cuts, rec.Model.Clusters.K, rec.Model.BGNBD, rec.Model.GammaGamma)
	for _, s := range rec.Segments {
		t.Logf("| %s | %d | %.1f%% | %.1f%% | %.2f | %.3f |", s.Name, s.Customers, 100*s.Share, 100*s.RevenueShare, float64(s.AvgCLV12mMinor)/100, s.AvgPAlive)
	}
	for i, d := range rec.Model.Clusters.Descriptions {
		t.Logf("| %d | %d | %.2f | %s |", i, rec.Model.Clusters.Sizes[i], rec.Model.Clusters.Centroids[i], d)
	}
	t.Logf("CLV %+v churn %v iterations %d", rec.Model.CLV, rec.Model.ChurnRisk, rec.KMeansIterations)
	t.Logf("purchase model %+v, selection %+v", *rec.Model.PurchaseModel, *rec.Model.ModelSelection)
	if rec.Model.PurchaseModel == nil || rec.Model.ModelSelection == nil || rec.Model.PurchaseModel.Name != rec.Model.ModelSelection.Model {
		t.Errorf("purchase model %+v, selection %+v", rec.Model.PurchaseModel, rec.Model.ModelSelection)
	}
}
