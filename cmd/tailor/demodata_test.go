package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"tailor/shared/local/dataset/datasettest"
)

// The rule that selects the demo subset from the full Online Retail file
// (testdata/demo/README.md says it in words). Most of make run DEMO=1's
// time is DynamoDB Local storing events, about 10 ms of CPU each, so the
// rule keeps every invoice of the chosen customers, which is what
// recency, frequency and churn read, and trims long invoices, which
// mostly add events.
const (
	// demoCustomerMultiple picks the customers whose number it divides.
	demoCustomerMultiple = 6
	// demoInvoiceLines is how many lines of each of their invoices stay.
	demoInvoiceLines = 2
	// demoGuestRows is how many rows without a customer stay (the first).
	demoGuestRows = 200
)

var updateDemo = flag.Bool("update-demo", false, "rewrite "+demoFile+" from the full Online Retail file")

// TestDemoSubsetFollowsItsRule: the shipped demo file holds exactly the
// rows the rule selects from ../shared/data, unchanged and in file order,
// with enough customers for the dashboard's pages. With -update-demo it
// writes the file instead:
//
//	go test ./cmd/tailor -run TestDemoSubsetFollowsItsRule -update-demo
func TestDemoSubsetFollowsItsRule(t *testing.T) {
	full, err := readGzip(datasettest.Path(t, "online_retail.csv.gz"))
	if err != nil {
		t.Fatalf("the Online Retail file is needed (see ../shared/data/README.md): %v", err)
	}
	want, st, err := demoSubset(full)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows: %d customers (%d rows), %d guest rows", st.rows, st.customers, st.customerRows, st.guestRows)
	if st.customers < 500 || st.guestRows != demoGuestRows {
		t.Fatalf("the rule keeps %d customers and %d guest rows; the demo needs at least 500 and %d", st.customers, st.guestRows, demoGuestRows)
	}
	root, err := datasettest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, demoFile)
	if *updateDemo {
		if err := writeGzip(path, want); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := readGzip(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := range min(len(gl), len(wl)) {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("%s line %d is %q; the rule gives %q (-update-demo rewrites the file)", demoFile, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s has %d lines; the rule gives %d (-update-demo rewrites the file)", demoFile, len(gl), len(wl))
	}
}

// subsetStats counts what demoSubset kept.
type subsetStats struct {
	rows, customers, customerRows, guestRows int
}

// demoSubset applies the demo rule to the text of the full Online Retail
// CSV: the header; the first demoGuestRows rows without a customer; and
// for each customer whose number is a multiple of demoCustomerMultiple,
// the first demoInvoiceLines lines of each of their invoices (sales and
// cancellations alike). Kept rows are copied byte for byte, in file order.
func demoSubset(full []byte) ([]byte, subsetStats, error) {
	const (
		invoiceCol  = 0
		customerCol = 6
	)
	var st subsetStats
	r := csv.NewReader(bytes.NewReader(full))
	r.ReuseRecord = true
	var out bytes.Buffer
	lines := map[string]int{} // kept lines per invoice
	customers := map[int]bool{}
	start := int64(0)
	for n := 0; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, st, err
		}
		end := r.InputOffset()
		raw := full[start:end]
		start = end
		if n == 0 {
			out.Write(raw) // the header
			continue
		}
		if len(rec) <= customerCol {
			return nil, st, fmt.Errorf("row %d: %d fields", n, len(rec))
		}
		id := rec[customerCol]
		if id == "" {
			if st.guestRows < demoGuestRows {
				st.guestRows++
				out.Write(raw)
			}
			continue
		}
		num, err := strconv.ParseFloat(id, 64)
		if err != nil {
			return nil, st, fmt.Errorf("row %d: customer %q: %w", n, id, err)
		}
		c := int(num)
		if c%demoCustomerMultiple != 0 || lines[rec[invoiceCol]] >= demoInvoiceLines {
			continue
		}
		lines[rec[invoiceCol]]++
		customers[c] = true
		st.customerRows++
		out.Write(raw)
	}
	st.customers = len(customers)
	st.rows = st.customerRows + st.guestRows
	return out.Bytes(), st, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}

func writeGzip(path string, b []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// TestDashboardNote: the demo load ends with the dashboard's address and
// the file of the key that signs in.
func TestDashboardNote(t *testing.T) {
	for _, tc := range []struct{ base, keyFile, want string }{
		{"http://127.0.0.1:3000", ".local/admin.key", "dashboard: http://127.0.0.1:3000/dashboard/ (sign in with the API key in .local/admin.key)"},
		{"http://127.0.0.1:3051/", "", "dashboard: http://127.0.0.1:3051/dashboard/ (sign in with an API key)"},
	} {
		if got := dashboardNote(tc.base, tc.keyFile); got != tc.want {
			t.Errorf("dashboardNote(%q, %q) = %q, want %q", tc.base, tc.keyFile, got, tc.want)
		}
	}
}
