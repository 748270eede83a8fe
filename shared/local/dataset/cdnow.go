package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CDNOWPurchase is one line of the CDNOW master or sample file. SampleID is
// the 1..2357 id of the 1/10 sample used in the papers, and 0 in the master
// file, which has no such column.
type CDNOWPurchase struct {
	CustomerID int
	SampleID   int
	Date       Date
	CDs        int
	Amount     int64 // cents
}

// ReadCDNOWMaster reads CDNOW_master.txt: an optional header line, then
// whitespace-separated customer_id, date (YYYYMMDD), number_of_cds,
// dollar_value.
func ReadCDNOWMaster(r io.Reader) ([]CDNOWPurchase, error) {
	return readCDNOW(r, 4)
}

// ReadCDNOWSample reads CDNOW_sample.txt: whitespace-separated master_id,
// sample_id, date (YYYYMMDD), n_cds, dollars, with no header.
func ReadCDNOWSample(r io.Reader) ([]CDNOWPurchase, error) {
	return readCDNOW(r, 5)
}

func readCDNOW(r io.Reader, nfields int) ([]CDNOWPurchase, error) {
	sc := bufio.NewScanner(r)
	var out []CDNOWPurchase
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if line == 1 && f[0] == "customer_id" {
			continue
		}
		if len(f) != nfields {
			return nil, fmt.Errorf("read CDNOW line %d: %w: %d fields, want %d", line, ErrFormat, len(f), nfields)
		}
		var p CDNOWPurchase
		var err error
		if p.CustomerID, err = strconv.Atoi(f[0]); err != nil {
			return nil, fmt.Errorf("read CDNOW line %d: %w: customer id %q", line, ErrFormat, f[0])
		}
		if nfields == 5 {
			if p.SampleID, err = strconv.Atoi(f[1]); err != nil {
				return nil, fmt.Errorf("read CDNOW line %d: %w: sample id %q", line, ErrFormat, f[1])
			}
			f = f[1:]
		}
		if p.Date, err = ParseDate(f[1]); err != nil {
			return nil, fmt.Errorf("read CDNOW line %d: %w", line, err)
		}
		if p.CDs, err = strconv.Atoi(f[2]); err != nil {
			return nil, fmt.Errorf("read CDNOW line %d: %w: cds %q", line, ErrFormat, f[2])
		}
		if p.Amount, err = ParseAmount(f[3], MinorUnits); err != nil {
			return nil, fmt.Errorf("read CDNOW line %d: %w", line, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read CDNOW: %w", err)
	}
	return out, nil
}

// CDNOWTransactions turns CDNOW purchases into generic transactions keyed
// by the sample id when present (the id the summary files use), else by
// the master id.
func CDNOWTransactions(ps []CDNOWPurchase) []Transaction {
	out := make([]Transaction, len(ps))
	for i, p := range ps {
		id := p.CustomerID
		if p.SampleID != 0 {
			id = p.SampleID
		}
		out[i] = Transaction{CustomerID: strconv.Itoa(id), Date: p.Date, Amount: p.Amount}
	}
	return out
}

// CDNOWSummaryRow is one customer of cdnow_customers_summary.csv or
// cdnow_customers_summary_with_transactions.csv: x repeat purchase days,
// t_x and T in weeks, and (in the second file only) zbar in dollars.
type CDNOWSummaryRow struct {
	ID      int
	X       int
	TX, T   float64
	Zbar    float64
	HasZbar bool
}

// ReadCDNOWSummary reads either CDNOW summary CSV; the header says which
// (ID,frequency,recency,T or ID,x,t_x,T,zbar).
func ReadCDNOWSummary(r io.Reader) ([]CDNOWSummaryRow, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, fmt.Errorf("read CDNOW summary: %w: empty input", ErrFormat)
	}
	header := strings.Split(strings.TrimSpace(sc.Text()), ",")
	if len(header) != 4 && len(header) != 5 {
		return nil, fmt.Errorf("read CDNOW summary: %w: header %q", ErrFormat, sc.Text())
	}
	withZbar := len(header) == 5
	var out []CDNOWSummaryRow
	for line := 2; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		f := strings.Split(text, ",")
		if len(f) != len(header) {
			return nil, fmt.Errorf("read CDNOW summary line %d: %w: %d fields", line, ErrFormat, len(f))
		}
		var row CDNOWSummaryRow
		var errs [5]error
		row.ID, errs[0] = strconv.Atoi(f[0])
		row.X, errs[1] = strconv.Atoi(f[1])
		row.TX, errs[2] = strconv.ParseFloat(f[2], 64)
		row.T, errs[3] = strconv.ParseFloat(f[3], 64)
		if withZbar {
			row.Zbar, errs[4] = strconv.ParseFloat(f[4], 64)
			row.HasZbar = true
		}
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("read CDNOW summary line %d: %w: %v", line, ErrFormat, err)
			}
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read CDNOW summary: %w", err)
	}
	return out, nil
}
