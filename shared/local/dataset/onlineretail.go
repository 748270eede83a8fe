package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	// The Online Retail timestamps are UK wall-clock times; embedding the
	// zone database keeps the conversion correct on hosts (such as the
	// provided.al2023 Lambda runtime) that ship without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// RowKind classifies one Online Retail row.
type RowKind int

// Row kinds. A row is a purchase, a refund (a cancellation invoice) or
// skipped for a stated reason; nothing is dropped silently.
const (
	RowPurchase RowKind = iota + 1
	RowRefund
	RowSkipped
)

// String returns the lower-case name of the kind.
func (k RowKind) String() string {
	switch k {
	case RowPurchase:
		return "purchase"
	case RowRefund:
		return "refund"
	case RowSkipped:
		return "skipped"
	}
	return "unknown"
}

// SkipReason says why a row yields no event. Reasons are stable strings so
// that loaders can report rejected-by-reason counts.
type SkipReason string

// Skip reasons, checked in this order (the first that applies wins).
const (
	// SkipMalformed: a field cannot be parsed (bad number or date, missing column).
	SkipMalformed SkipReason = "malformed"
	// SkipGuest: no CustomerID; guest checkouts cannot be tied to a customer.
	SkipGuest SkipReason = "guest"
	// SkipQuantity: Quantity <= 0 on a normal invoice, or >= 0 on a
	// cancellation; both are stock adjustments rather than sales.
	SkipQuantity SkipReason = "quantity"
	// SkipPrice: UnitPrice <= 0 (free samples, write-offs, bad-debt adjustments).
	SkipPrice SkipReason = "price"
	// SkipNonProduct: the stock code is a fee, postage, discount or voucher,
	// not merchandise (see NonProductStockCode).
	SkipNonProduct SkipReason = "non_product"
	// SkipSubPenny: the price rounds to zero pence (0.001); no such product row
	// exists in the published file, the rule only keeps the money type exact.
	SkipSubPenny SkipReason = "sub_penny_price"
)

// RetailRecord is one classified row of the Online Retail file. Fields are
// filled whenever they parse, also for skipped rows, so that independent
// aggregates can be recomputed from the same stream.
type RetailRecord struct {
	Line        int // 1-based line number in the file, header is line 1
	Kind        RowKind
	Reason      SkipReason // empty unless Kind is RowSkipped
	InvoiceNo   string
	StockCode   string
	Description string
	// Quantity is signed as in the file: negative for refunds.
	Quantity int64
	// Time is InvoiceDate converted from Europe/London to UTC.
	Time time.Time
	// UnitPriceMinor is UnitPrice in pence, parsed from the decimal text
	// without floating point; sub-penny digits are rounded half away from zero.
	UnitPriceMinor int64
	// CustomerID is the integer customer number ("17850.0" becomes "17850").
	CustomerID string
	Country    string
}

// nonProductCodes are the stock codes that are not merchandise. Chosen by
// reading every code that is not a 5-digit product number (optionally with a
// letter suffix): POST/DOT/C2 are postage and carriage, M/m manual
// adjustments, D discounts, S samples, B bad-debt adjustments, BANK CHARGES,
// AMAZONFEE and CRUK fees or commissions, PADS a zero-value filler. The DCGS
// codes look like merchandise sold through eBay/Amazon and are kept; they
// only appear on guest rows anyway.
var nonProductCodes = map[string]bool{
	"POST": true, "DOT": true, "C2": true, "M": true, "m": true, "D": true,
	"S": true, "B": true, "BANK CHARGES": true, "AMAZONFEE": true,
	"CRUK": true, "PADS": true,
}

// NonProductStockCode reports whether a stock code is a fee, postage,
// adjustment or gift voucher (gift_0001_*) rather than a product.
func NonProductStockCode(code string) bool {
	return nonProductCodes[code] || strings.HasPrefix(strings.ToLower(code), "gift_")
}

// ukTime is the zone the retailer recorded invoice times in.
var ukTime = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Unreachable: time/tzdata is embedded.
		panic(err)
	}
	return loc
}

// onlineRetailHeader is the expected column order.
var onlineRetailHeader = []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}

// ReadOnlineRetail streams the UCI Online Retail CSV (gzip-compressed or
// plain) from r and calls yield with every data row, classified. It stops at
// the first error from yield or from the input; a malformed row is not an
// error but a record skipped with SkipMalformed.
func ReadOnlineRetail(r io.Reader, yield func(RetailRecord) error) error {
	in, err := maybeGunzip(r)
	if err != nil {
		return fmt.Errorf("online retail: %w", err)
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("online retail: read header: %w", err)
	}
	if len(header) < len(onlineRetailHeader) {
		return fmt.Errorf("online retail: header has %d columns, want %d", len(header), len(onlineRetailHeader))
	}
	for i, want := range onlineRetailHeader {
		if strings.TrimPrefix(header[i], "\ufeff") != want {
			return fmt.Errorf("online retail: column %d is %q, want %q", i+1, header[i], want)
		}
	}
	line := 1
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line++
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) && !errors.Is(perr.Err, csv.ErrQuote) {
				// Field-level problems are data, not I/O: report the row.
				if yerr := yield(RetailRecord{Line: line, Kind: RowSkipped, Reason: SkipMalformed}); yerr != nil {
					return yerr
				}
				continue
			}
			return fmt.Errorf("online retail: line %d: %w", line, err)
		}
		if err := yield(classifyRetailRow(line, row)); err != nil {
			return err
		}
	}
}

// classifyRetailRow applies the cleaning rules to one row. Order matters:
// the README's reference count (397,884 rows) is everything that survives
// the guest, quantity and price rules, so the non-product rule comes last
// and tests can recount it.
func classifyRetailRow(line int, row []string) RetailRecord {
	rec := RetailRecord{Line: line, Kind: RowSkipped}
	if len(row) < len(onlineRetailHeader) {
		rec.Reason = SkipMalformed
		return rec
	}
	rec.InvoiceNo = strings.TrimSpace(row[0])
	rec.StockCode = strings.TrimSpace(row[1])
	rec.Description = strings.TrimSpace(row[2])
	rec.Country = strings.TrimSpace(row[7])
	qty, qerr := strconv.ParseInt(strings.TrimSpace(row[3]), 10, 64)
	ts, terr := time.ParseInLocation(time.DateTime, strings.TrimSpace(row[4]), ukTime)
	price, positive, perr := parseMinorUnits(strings.TrimSpace(row[5]))
	cust, cerr := normaliseCustomerID(strings.TrimSpace(row[6]))
	rec.Quantity, rec.Time, rec.UnitPriceMinor, rec.CustomerID = qty, ts.UTC(), price, cust
	switch {
	case qerr != nil || terr != nil || perr != nil || cerr != nil || rec.InvoiceNo == "" || rec.StockCode == "":
		rec.Reason = SkipMalformed
	case cust == "":
		rec.Reason = SkipGuest
	case strings.HasPrefix(rec.InvoiceNo, "C") != (qty < 0) || qty == 0:
		rec.Reason = SkipQuantity
	case !positive:
		rec.Reason = SkipPrice
	case NonProductStockCode(rec.StockCode):
		rec.Reason = SkipNonProduct
	case price == 0:
		rec.Reason = SkipSubPenny
	case qty < 0:
		rec.Kind, rec.Reason = RowRefund, ""
	default:
		rec.Kind, rec.Reason = RowPurchase, ""
	}
	return rec
}

// normaliseCustomerID turns the float-formatted id ("17850.0") into its
// integer text; an empty field is a guest and yields "".
func normaliseCustomerID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Trim(frac, "0") != "" || whole == "" {
		return "", fmt.Errorf("customer id %q is not an integer", s)
	}
	for _, c := range whole {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("customer id %q is not an integer", s)
		}
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	return whole, nil
}

// parseMinorUnits converts a decimal string such as "2.55", "-11062.06" or
// "0.001" into hundredths, rounding digits beyond the second half away from
// zero. positive reports whether the exact decimal value is above zero,
// which can differ from the rounded result (0.001 is positive, 0 pence).
func parseMinorUnits(s string) (minor int64, positive bool, err error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(body, ".")
	if whole == "" && frac == "" {
		return 0, false, fmt.Errorf("price %q: empty", s)
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, false, fmt.Errorf("price %q: not a decimal", s)
	}
	if whole == "" {
		whole = "0"
	}
	units, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || units > (1<<62)/100 {
		return 0, false, fmt.Errorf("price %q: out of range", s)
	}
	cents := int64(0)
	for i := 0; i < 2; i++ {
		cents *= 10
		if i < len(frac) {
			cents += int64(frac[i] - '0')
		}
	}
	if len(frac) > 2 && frac[2] >= '5' {
		cents++
	}
	minor = units*100 + cents
	nonZero := strings.Trim(whole, "0") != "" || strings.Trim(frac, "0") != ""
	if neg {
		minor = -minor
	}
	return minor, nonZero && !neg, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maybeGunzip returns a reader of the decompressed stream when r starts with
// the gzip magic number, and a buffered r otherwise.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 1<<16), nil
	}
	return br, nil
}
