package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors the readers and the summary return; callers compare with errors.Is.
var (
	// ErrFormat reports input that does not follow the documented layout.
	ErrFormat = errors.New("dataset: malformed input")
	// ErrAmount reports a money string that is not an exact decimal in minor units.
	ErrAmount = errors.New("dataset: invalid amount")
	// ErrDate reports a date that is neither YYYY-MM-DD nor RFC 3339.
	ErrDate = errors.New("dataset: invalid date")
)

// Date is a calendar day counted from 1970-01-01. Purchase models work on
// whole days, so a day number avoids time zones and clock times entirely.
type Date int32

// DateOf returns the calendar day of t in t's own location: a purchase
// belongs to the day the shop or customer saw it, not to a UTC day.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time returns midnight UTC of the day.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// ParseDate reads YYYY-MM-DD, YYYYMMDD or an RFC 3339 timestamp (whose date
// is taken in the timestamp's own offset).
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	layouts := []string{time.DateOnly, "20060102", time.RFC3339Nano}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return DateOf(t), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrDate, s)
}

// ParseAmount converts a decimal string such as "12.5", "-3.10" or "7" into
// integer minor units with the given number of decimal places, without
// passing through floating point. More fractional digits than places is an
// error rather than a silent rounding.
func ParseAmount(s string, places int) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("%w: %q", ErrAmount, orig)
	}
	if len(frac) > places {
		// Trailing zeros beyond the precision are harmless ("1.500").
		extra := frac[places:]
		if strings.Trim(extra, "0") != "" {
			return 0, fmt.Errorf("%w: %q has more than %d decimal places", ErrAmount, orig, places)
		}
		frac = frac[:places]
	}
	digits := whole + frac + strings.Repeat("0", places-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", ErrAmount, orig)
		}
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrAmount, orig, err)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// MinorUnits is the number of decimal places in amounts read by this
// package: cents, pence and the like.
const MinorUnits = 2

// Transaction is one purchase line: who, which day, and how much in minor
// units. Several lines may share a customer and day.
type Transaction struct {
	CustomerID string
	Date       Date
	Amount     int64
}

// ReadTransactions reads a CSV export with the header
// customer_id,date,amount (extra columns are ignored, column order is free).
// Dates are YYYY-MM-DD or RFC 3339; amounts are decimal strings with at most
// two decimal places.
func ReadTransactions(r io.Reader) ([]Transaction, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read transactions header: %w", errors.Join(ErrFormat, err))
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	idx := [3]int{}
	for i, name := range []string{"customer_id", "date", "amount"} {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("read transactions: %w: missing column %q", ErrFormat, name)
		}
		idx[i] = c
	}
	var out []Transaction
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read transactions line %d: %w", line, errors.Join(ErrFormat, err))
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		for _, c := range idx {
			if c >= len(rec) {
				return nil, fmt.Errorf("read transactions line %d: %w: too few fields", line, ErrFormat)
			}
		}
		id := strings.TrimSpace(rec[idx[0]])
		if id == "" {
			return nil, fmt.Errorf("read transactions line %d: %w: empty customer_id", line, ErrFormat)
		}
		d, err := ParseDate(rec[idx[1]])
		if err != nil {
			return nil, fmt.Errorf("read transactions line %d: %w", line, err)
		}
		amt, err := ParseAmount(rec[idx[2]], MinorUnits)
		if err != nil {
			return nil, fmt.Errorf("read transactions line %d: %w", line, err)
		}
		out = append(out, Transaction{CustomerID: id, Date: d, Amount: amt})
	}
}

// Open opens a file for reading, transparently decompressing it when its
// name ends in .gz. It is the one place this package touches the file
// system, for commands and tests; the readers themselves take an io.Reader.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return gzipFile{zr, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g gzipFile) Close() error {
	return errors.Join(g.Reader.Close(), g.f.Close())
}

// CustomerSummary is one customer's purchase history as of the end of a
// calibration period, in whole days, in the form the RFM, BG/NBD and
// Gamma-Gamma models need. Same-day purchases are one purchase occasion.
type CustomerSummary struct {
	CustomerID string
	First      Date // first purchase day
	Last       Date // last purchase day on or before the end
	// PurchaseDays counts distinct days with a purchase (frequency for RFM).
	PurchaseDays int
	// Repeat is x in BG/NBD: purchase days after the first.
	Repeat int
	// RecencyDays is t_x in days: Last - First.
	RecencyDays int
	// AgeDays is T in days: End - First.
	AgeDays int
	// DaysSinceLast is End - Last, the R of RFM.
	DaysSinceLast int
	// TotalSpend is the spend over all purchase days, in minor units.
	TotalSpend int64
	// RepeatSpend is the spend over the repeat days only, in minor units;
	// RepeatSpend/Repeat is zbar of the Gamma-Gamma model.
	RepeatSpend int64
}

// MeanRepeatSpend returns zbar in minor units: mean spend per repeat
// purchase day, or 0 for a customer with no repeat purchase.
func (c CustomerSummary) MeanRepeatSpend() float64 {
	if c.Repeat == 0 {
		return 0
	}
	return float64(c.RepeatSpend) / float64(c.Repeat)
}

// Summarize derives one summary per customer from transactions up to and
// including end. Lines after end are ignored, and so are customers whose
// first purchase is after end. Lines with a negative amount (refunds) are
// not purchases: they neither create a purchase day nor change spend,
// because the models describe buying occasions. A zero amount is a purchase
// (CDNOW has free CDs, and the published summary counts them). The result is
// sorted by customer id so runs are reproducible. txs is not modified.
func Summarize(txs []Transaction, end Date) []CustomerSummary {
	type day struct {
		id string
		d  Date
	}
	// Sum spend per (customer, day) first: that is the "same-day purchases
	// are merged" rule, independent of line order.
	perDay := make(map[day]int64, len(txs))
	for _, t := range txs {
		if t.Date > end || t.Amount < 0 {
			continue
		}
		perDay[day{t.CustomerID, t.Date}] += t.Amount
	}
	days := make([]day, 0, len(perDay))
	for k := range perDay {
		days = append(days, k)
	}
	slices.SortFunc(days, func(a, b day) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return int(a.d) - int(b.d)
	})
	var out []CustomerSummary
	for i := 0; i < len(days); {
		j := i
		s := CustomerSummary{CustomerID: days[i].id, First: days[i].d}
		for ; j < len(days) && days[j].id == s.CustomerID; j++ {
			amt := perDay[days[j]]
			s.TotalSpend += amt
			if j > i {
				s.RepeatSpend += amt
			}
			s.Last = days[j].d
		}
		s.PurchaseDays = j - i
		s.Repeat = s.PurchaseDays - 1
		s.RecencyDays = int(s.Last - s.First)
		s.AgeDays = int(end - s.First)
		s.DaysSinceLast = int(end - s.Last)
		out = append(out, s)
		i = j
	}
	return out
}
