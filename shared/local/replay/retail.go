// Package replay turns a data set into Tailor API requests and sends them:
// the UCI Online Retail rows become catalog items (POST /v1/items:batch)
// and purchase and refund events (POST /v1/events), sent in batches by a
// few concurrent senders that retry only what failed. `tailor load` and the
// end-to-end data test both use it; it knows nothing of how the API is
// reached (see Sender).
package replay

import (
	"encoding/json"
	"fmt"
	"strings"

	"tailor/shared/catalog"
	"tailor/shared/events"
	"tailor/shared/local/dataset"
	"tailor/shared/platform/money"
)

// Currency of the Online Retail data set (a UK retailer, prices in pounds).
const Currency = "GBP"

// EventID derives a row's event id from its invoice and line number, so
// loading the same file again sends the same ids and changes nothing.
func EventID(rec dataset.RetailRecord) string {
	return fmt.Sprintf("or-%s-%d", rec.InvoiceNo, rec.Line)
}

// RetailEvent converts a classified row into an event. Purchases stay
// purchases; cancellations (invoice C...) become refunds of the cancelled
// quantity with the cancellation invoice as order id; skipped rows (guest,
// zero price, non-product stock codes, adjustments) yield no event.
func RetailEvent(rec dataset.RetailRecord) (events.Input, bool) {
	var typ events.Type
	qty := rec.Quantity
	switch rec.Kind {
	case dataset.RowPurchase:
		typ = events.Purchase
	case dataset.RowRefund:
		typ, qty = events.Refund, -rec.Quantity
	default:
		return events.Input{}, false
	}
	in := events.Input{
		EventID:    EventID(rec),
		Type:       typ,
		CustomerID: rec.CustomerID,
		ItemID:     rec.StockCode,
		Quantity:   &qty,
		Price:      money.Format(rec.UnitPriceMinor, Currency),
		Currency:   Currency,
		OrderID:    rec.InvoiceNo,
		Timestamp:  rec.Time.Format("2006-01-02T15:04:05Z07:00"),
		Channel:    "web",
	}
	if rec.Country != "" {
		in.Properties = countryProperty(rec.Country)
	}
	return in, true
}

func countryProperty(country string) []byte {
	b, _ := jsonString(country)
	return []byte(`{"country":` + b + `}`)
}

// categoryRules derive a category from an item description, first match
// wins. The data set has no categories; these words cover most of the
// retailer's gift range and give category affinity something real to
// measure. Anything else is "Gifts".
var categoryRules = []struct {
	category string
	words    []string
}{
	{"Christmas", []string{"CHRISTMAS", "XMAS", "ADVENT", "SANTA", "REINDEER", "SNOWFLAKE"}},
	{"Bags", []string{"BAG", "PURSE", "TOTE"}},
	{"Lighting", []string{"LIGHT", "LANTERN", "CANDLE", "T-LIGHT", "LAMP", "TEALIGHT"}},
	{"Kitchen", []string{"MUG", "CUP", "TEAPOT", "PLATE", "BOWL", "JUG", "CAKE", "BAKING", "LUNCH BOX", "TIN", "NAPKIN", "APRON", "SPOON", "BOTTLE"}},
	{"Stationery", []string{"CARD", "WRAP", "PAPER", "NOTEBOOK", "PENCIL", "PEN ", "STICKER", "CHALK", "RIBBON", "TAPE", "ENVELOPE"}},
	{"Home decor", []string{"FRAME", "CLOCK", "SIGN", "CUSHION", "MIRROR", "DOORMAT", "HOOK", "VASE", "WREATH", "HANGING", "DECORATION", "BUNTING", "GARLAND", "DOORSTOP"}},
	{"Toys and games", []string{"TOY", "GAME", "DOLL", "PUZZLE", "JIGSAW", "SPACEBOY", "CIRCUS", "DOMINOES", "SKIPPING ROPE"}},
	{"Garden", []string{"GARDEN", "PLANT", "FLOWER POT", "WATERING", "BIRD", "PARASOL"}},
	{"Jewellery and accessories", []string{"NECKLACE", "BRACELET", "EARRING", "RING", "HAIR", "UMBRELLA", "WALLET", "KEY"}},
	{"Storage", []string{"BOX", "BASKET", "CRATE", "DRAWER", "JAR", "HOLDER"}},
}

// DeriveCategory returns the derived category of an item description.
func DeriveCategory(description string) string {
	d := " " + strings.ToUpper(description) + " "
	for _, r := range categoryRules {
		for _, w := range r.words {
			if strings.Contains(d, w) {
				return r.category
			}
		}
	}
	return "Gifts"
}

// Items collects catalog items from rows: each stock code that appears on
// a purchase or refund, titled with its first non-empty description and
// priced at its first purchase's unit price.
type Items struct {
	order []string
	items map[string]*catalog.BatchInput
}

// Add records the item of rec, if rec yields an event.
func (c *Items) Add(rec dataset.RetailRecord) {
	if rec.Kind != dataset.RowPurchase && rec.Kind != dataset.RowRefund {
		return
	}
	if c.items == nil {
		c.items = map[string]*catalog.BatchInput{}
	}
	it, ok := c.items[rec.StockCode]
	if !ok {
		it = &catalog.BatchInput{ItemID: rec.StockCode, Input: catalog.Input{Currency: Currency}}
		c.items[rec.StockCode] = it
		c.order = append(c.order, rec.StockCode)
	}
	if it.Title == "" && rec.Description != "" {
		it.Title = rec.Description
		it.Category = []string{DeriveCategory(rec.Description)}
	}
	if it.Price == "" && rec.Kind == dataset.RowPurchase {
		it.Price = money.Format(rec.UnitPriceMinor, Currency)
	}
}

// List returns the items in first-seen order, with placeholders where the
// data has no description or no purchase.
func (c *Items) List() []catalog.BatchInput {
	out := make([]catalog.BatchInput, 0, len(c.order))
	for _, id := range c.order {
		it := *c.items[id]
		if it.Title == "" {
			it.Title = id
			it.Category = []string{"Gifts"}
		}
		if it.Price == "" {
			it.Price = "0.00"
		}
		out = append(out, it)
	}
	return out
}

// jsonString quotes s as a JSON string.
func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
