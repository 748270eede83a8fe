package dataset

import (
	"math"
	"os"
	"strconv"
	"tailor/shared/local/dataset/datasettest"
	"testing"
)

func readCDNOWFile[T any](t *testing.T, name string, read func(f *os.File) ([]T, error)) []T {
	t.Helper()
	f, err := os.Open(datasettest.Path(t, "cdnow", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := read(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rows
}

func TestReadCDNOWCounts(t *testing.T) {
	sample := readCDNOWFile(t, "CDNOW_sample.txt", func(f *os.File) ([]CDNOWPurchase, error) { return ReadCDNOWSample(f) })
	master := readCDNOWFile(t, "CDNOW_master.txt", func(f *os.File) ([]CDNOWPurchase, error) { return ReadCDNOWMaster(f) })
	distinct := func(ps []CDNOWPurchase, id func(CDNOWPurchase) int) int {
		m := map[int]bool{}
		for _, p := range ps {
			m[id(p)] = true
		}
		return len(m)
	}
	tests := []struct {
		name            string
		rows, customers int
		gotRows, gotCus int
	}{
		{"sample", 6919, 2357, len(sample), distinct(sample, func(p CDNOWPurchase) int { return p.SampleID })},
		{"master", 69659, 23570, len(master), distinct(master, func(p CDNOWPurchase) int { return p.CustomerID })},
	}
	for _, tt := range tests {
		if tt.gotRows != tt.rows || tt.gotCus != tt.customers {
			t.Errorf("%s: %d rows, %d customers; want %d, %d", tt.name, tt.gotRows, tt.gotCus, tt.rows, tt.customers)
		}
	}
	first := sample[0]
	want := CDNOWPurchase{CustomerID: 4, SampleID: 1, Date: mustDate(t, "1997-01-01"), CDs: 2, Amount: 2933}
	if first != want {
		t.Errorf("first sample row = %+v, want %+v", first, want)
	}
}

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSummaryMatchesPublishedFile derives x, t_x, T and zbar from the raw
// sample and checks them against the summary file the papers used: x
// exactly, the rest to the file's two-decimal rounding.
func TestSummaryMatchesPublishedFile(t *testing.T) {
	sample := readCDNOWFile(t, "CDNOW_sample.txt", func(f *os.File) ([]CDNOWPurchase, error) { return ReadCDNOWSample(f) })
	file := readCDNOWFile(t, "cdnow_customers_summary_with_transactions.csv", func(f *os.File) ([]CDNOWSummaryRow, error) { return ReadCDNOWSummary(f) })
	plain := readCDNOWFile(t, "cdnow_customers_summary.csv", func(f *os.File) ([]CDNOWSummaryRow, error) { return ReadCDNOWSummary(f) })
	if len(file) != 2357 || len(plain) != 2357 {
		t.Fatalf("summary files have %d and %d rows, want 2357", len(file), len(plain))
	}
	got := Summarize(CDNOWTransactions(sample), mustDate(t, "1997-09-30"))
	if len(got) != 2357 {
		t.Fatalf("Summarize: %d customers, want 2357", len(got))
	}
	byID := map[int]CustomerSummary{}
	for _, s := range got {
		id, err := strconv.Atoi(s.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		byID[id] = s
	}
	const half = 0.005 + 1e-9 // the file rounds to 2 decimals
	repeaters := 0
	for i, row := range file {
		s, ok := byID[row.ID]
		if !ok {
			t.Fatalf("customer %d missing from derived summary", row.ID)
		}
		if s.Repeat != row.X || s.Repeat != plain[i].X {
			t.Errorf("customer %d: x = %d, file %d", row.ID, s.Repeat, row.X)
		}
		tx, T := float64(s.RecencyDays)/7, float64(s.AgeDays)/7
		zbar := s.MeanRepeatSpend() / 100
		if math.Abs(tx-row.TX) > half || math.Abs(T-row.T) > half || math.Abs(zbar-row.Zbar) > half {
			t.Errorf("customer %d: t_x %.4f T %.4f zbar %.4f; file %v %v %v", row.ID, tx, T, zbar, row.TX, row.T, row.Zbar)
		}
		if row.X > 0 {
			repeaters++
		}
	}
	if repeaters != 946 {
		t.Errorf("%d customers with x > 0, want 946", repeaters)
	}
}
