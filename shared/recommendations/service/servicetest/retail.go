package servicetest

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/local/dataset"
	"tailor/shared/local/dataset/datasettest"
)

// Retail is the Online Retail data as the stack holds it after ingestion:
// every identified customer's purchases and refunds folded into customer
// aggregates with the fold ingestion uses (one event per invoice line),
// and one catalogue item per product stock code (its last description
// and price).
type Retail struct {
	Aggregates map[string]*customers.Aggregates
	Items      []catalog.Item
	// Events is the number of events folded.
	Events int
}

// RetailAsOf is the day after the last invoice.
var RetailAsOf = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)

// LoadRetail reads and folds ../shared/data/online_retail.csv.gz.
func LoadRetail(t testing.TB) *Retail {
	t.Helper()
	f, err := os.Open(datasettest.Path(t, "online_retail.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byCustomer := map[string][]events.Event{}
	items := map[string]catalog.Item{}
	r := &Retail{Aggregates: map[string]*customers.Aggregates{}}
	err = dataset.ReadOnlineRetail(f, func(row dataset.RetailRecord) error {
		var e events.Event
		switch row.Kind {
		case dataset.RowPurchase:
			e = events.Event{Type: events.Purchase, Quantity: row.Quantity}
		case dataset.RowRefund:
			e = events.Event{Type: events.Refund, Quantity: -row.Quantity}
		default:
			return nil
		}
		e.ID = fmt.Sprintf("or-%d", row.Line)
		e.CustomerID, e.ItemID, e.PriceMinor, e.Currency, e.OrderID, e.Time = row.CustomerID, row.StockCode, row.UnitPriceMinor, "GBP", row.InvoiceNo, row.Time
		byCustomer[row.CustomerID] = append(byCustomer[row.CustomerID], e)
		r.Events++
		if row.Kind == dataset.RowPurchase {
			items[row.StockCode] = catalog.Item{ID: row.StockCode, Title: row.Description, Category: []string{}, PriceMinor: row.UnitPriceMinor,
				Currency: "GBP", Tags: []string{}, InStock: true, CreatedAt: row.Time, UpdatedAt: row.Time}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, evs := range byCustomer {
		r.Aggregates[id] = customers.Fold(evs)
	}
	for _, id := range slices.Sorted(maps.Keys(items)) {
		r.Items = append(r.Items, items[id])
	}
	return r
}
