package dataset

import (
	"bytes"
	"compress/gzip"
	"os"
	"strings"
	"tailor/shared/local/dataset/datasettest"
	"testing"
	"time"
)

const retailHeader = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

func TestClassifyRetailRows(t *testing.T) {
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	tests := []struct {
		name   string
		row    string
		kind   RowKind
		reason SkipReason
		check  func(t *testing.T, r RetailRecord)
	}{
		{"purchase in winter (GMT = UTC)", "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom", RowPurchase, "",
			func(t *testing.T, r RetailRecord) {
				if r.CustomerID != "17850" || r.UnitPriceMinor != 255 || r.Quantity != 6 || !r.Time.Equal(utc("2010-12-01 08:26:00")) {
					t.Errorf("got %+v", r)
				}
			}},
		{"purchase in summer (BST = UTC+1)", "555000,22423,REGENCY CAKESTAND 3 TIER,2,2011-06-01 10:00:00,12.75,12345.0,United Kingdom", RowPurchase, "",
			func(t *testing.T, r RetailRecord) {
				if !r.Time.Equal(utc("2011-06-01 09:00:00")) || r.UnitPriceMinor != 1275 {
					t.Errorf("got %v %d", r.Time, r.UnitPriceMinor)
				}
			}},
		{"quoted description with comma", `536365,21730,"GLASS STAR, FROSTED",6,2010-12-01 08:26:00,4.25,17850.0,United Kingdom`, RowPurchase, "",
			func(t *testing.T, r RetailRecord) {
				if r.Description != "GLASS STAR, FROSTED" || r.UnitPriceMinor != 425 {
					t.Errorf("got %+v", r)
				}
			}},
		{"cancellation is a refund", "C536379,22556,PLASTERS IN TIN CIRCUS PARADE,-12,2010-12-01 09:41:00,1.65,14527.0,United Kingdom", RowRefund, "",
			func(t *testing.T, r RetailRecord) {
				if r.Quantity != -12 || r.UnitPriceMinor != 165 {
					t.Errorf("got %+v", r)
				}
			}},
		{"guest", "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom", RowSkipped, SkipGuest, nil},
		{"zero price", "536414,22139,,56,2010-12-01 11:52:00,0,13047.0,United Kingdom", RowSkipped, SkipPrice, nil},
		{"negative quantity on a normal invoice", "536589,21777,,-10,2010-12-01 16:50:00,0,13047.0,United Kingdom", RowSkipped, SkipQuantity, nil},
		{"postage", "536370,POST,POSTAGE,3,2010-12-01 08:45:00,18,12583.0,France", RowSkipped, SkipNonProduct, nil},
		{"manual", "536569,M,Manual,1,2010-12-01 15:35:00,1.25,16274.0,United Kingdom", RowSkipped, SkipNonProduct, nil},
		{"gift voucher", "537000,gift_0001_20,Dotcomgiftshop Gift Voucher £20.00,1,2010-12-01 15:35:00,17.02,16274.0,United Kingdom", RowSkipped, SkipNonProduct, nil},
		{"sub-penny non-product keeps its non-product reason", "550193,PADS,PADS TO MATCH ALL CUSHIONS,1,2011-04-15 09:27:00,0.001,13952.0,United Kingdom", RowSkipped, SkipNonProduct, nil},
		{"sub-penny product", "550194,22000,X,1,2011-04-15 09:27:00,0.004,13952.0,United Kingdom", RowSkipped, SkipSubPenny, nil},
		{"sub-penny rounds half up", "550195,22000,X,1,2011-04-15 09:27:00,1.005,13952.0,United Kingdom", RowPurchase, "",
			func(t *testing.T, r RetailRecord) {
				if r.UnitPriceMinor != 101 {
					t.Errorf("price %d, want 101", r.UnitPriceMinor)
				}
			}},
		{"bad quantity", "536365,85123A,X,six,2010-12-01 08:26:00,2.55,17850.0,United Kingdom", RowSkipped, SkipMalformed, nil},
		{"bad date", "536365,85123A,X,6,01/12/2010 08:26,2.55,17850.0,United Kingdom", RowSkipped, SkipMalformed, nil},
		{"bad customer", "536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.5,United Kingdom", RowSkipped, SkipMalformed, nil},
		{"short row", "536365,85123A,X", RowSkipped, SkipMalformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []RetailRecord
			err := ReadOnlineRetail(strings.NewReader(retailHeader+tt.row+"\n"), func(r RetailRecord) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d records", len(got))
			}
			if got[0].Kind != tt.kind || got[0].Reason != tt.reason || got[0].Line != 2 {
				t.Fatalf("got kind %v reason %q line %d, want %v %q", got[0].Kind, got[0].Reason, got[0].Line, tt.kind, tt.reason)
			}
			if tt.check != nil {
				tt.check(t, got[0])
			}
		})
	}
}

func TestParseMinorUnits(t *testing.T) {
	tests := []struct {
		in       string
		minor    int64
		positive bool
		bad      bool
	}{
		{"2.55", 255, true, false},
		{"18", 1800, true, false},
		{"0.1", 10, true, false},
		{".5", 50, true, false},
		{"0", 0, false, false},
		{"0.001", 0, true, false},
		{"-11062.06", -1106206, false, false},
		{"38970.00", 3897000, true, false},
		{"1e3", 0, false, true},
		{"", 0, false, true},
		{"1.2.3", 0, false, true},
	}
	for _, tt := range tests {
		minor, positive, err := parseMinorUnits(tt.in)
		if (err != nil) != tt.bad || minor != tt.minor || positive != tt.positive {
			t.Errorf("parseMinorUnits(%q) = %d, %v, %v; want %d, %v, bad=%v", tt.in, minor, positive, err, tt.minor, tt.positive, tt.bad)
		}
	}
}

func TestReadOnlineRetailRejectsWrongHeader(t *testing.T) {
	err := ReadOnlineRetail(strings.NewReader("a,b,c\n1,2,3\n"), func(RetailRecord) error { return nil })
	if err == nil {
		t.Fatal("want an error for a foreign header")
	}
}

func TestReadOnlineRetailGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(retailHeader + "536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"))
	zw.Close()
	n := 0
	if err := ReadOnlineRetail(&buf, func(r RetailRecord) error {
		if r.Kind == RowPurchase {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("read %d purchases from gzip, want 1", n)
	}
}

// TestOnlineRetailFacts checks the reader against the figures published in
// the data README, and pins the counts per cleaning rule.
func TestOnlineRetailFacts(t *testing.T) {
	f, err := os.Open(datasettest.Path(t, "online_retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows, withCustomer, readmeRows int
	customers := map[string]bool{}
	readmeCustomers := map[string]bool{}
	kinds := map[RowKind]int{}
	reasons := map[SkipReason]int{}
	err = ReadOnlineRetail(f, func(r RetailRecord) error {
		rows++
		kinds[r.Kind]++
		reasons[r.Reason]++
		if r.CustomerID != "" {
			withCustomer++
			customers[r.CustomerID] = true
		}
		// The README's rule set: customer present, not a cancellation,
		// Quantity > 0 and UnitPrice > 0, with no stock-code filter.
		if r.Kind == RowPurchase || (r.Reason == SkipNonProduct && r.Quantity > 0) {
			readmeRows++
			readmeCustomers[r.CustomerID] = true
		}
		if r.Kind != RowSkipped && r.Time.Location() != time.UTC {
			t.Fatalf("line %d: time not in UTC", r.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"rows", rows, 541909},
		{"rows with a CustomerID", withCustomer, 406829},
		{"customers", len(customers), 4372},
		{"rows after the README's cleaning", readmeRows, 397884},
		{"customers after the README's cleaning", len(readmeCustomers), 4338},
		{"purchases", kinds[RowPurchase], 396337},
		{"refunds", kinds[RowRefund], 8539},
		{"skipped as guest", reasons[SkipGuest], 135080},
		{"skipped as non-product", reasons[SkipNonProduct], 1547 + 366}, // purchases + cancellations
		{"skipped as malformed", reasons[SkipMalformed], 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}
