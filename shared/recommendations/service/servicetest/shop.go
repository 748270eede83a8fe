// Package servicetest holds a small shop for recommendation tests: a
// catalogue with categories, brands, prices and an out-of-stock item, and
// the events of a few dozen shoppers whose baskets make the expected
// neighbours obvious. The same data feeds the service and handler tests
// (in a memory store, see NewMemory; or in DynamoDB Local through the
// ingest service, see Seed, with the dynamodb build tag) and the
// end-to-end test (through the public API).
package servicetest

import (
	"fmt"
	"time"

	"tailor/shared/catalog"
)

// Now is the shop's clock: every event happened in the 20 days before it.
var Now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The customer the tests ask about, and the items whose roles they check.
const (
	// Customer bought Mug two days ago, viewed Trowel yesterday and put
	// Towel in the cart an hour ago.
	Customer = "c-123"
	Mug      = "sku-42" // Home/Kitchen; bought with Teapot and Spoon by six, with Kettle by three, twice by three
	Towel    = "sku-43" // Home/Bath; in Customer's cart
	Teapot   = "sku-44" // Mug's strongest in-stock neighbour
	Kettle   = "sku-45"
	Spoon    = "sku-46" // out of stock, yet Mug's strongest neighbour
	NewMug   = "sku-48" // Home/Kitchen, Acme, no interactions at all
	Trowel   = "sku-60" // Garden
)

func item(id, title, brand, price string, inStock bool, category ...string) catalog.BatchInput {
	return catalog.BatchInput{ItemID: id, Input: catalog.Input{Title: title, Category: category, Brand: brand,
		Price: price, Currency: "GBP", InStock: &inStock}}
}

// Items is the catalogue.
func Items() []catalog.BatchInput {
	return []catalog.BatchInput{
		item(Mug, "Enamel mug, blue", "Acme", "12.50", true, "Home", "Kitchen"),
		item(Teapot, "Teapot", "Acme", "25.00", true, "Home", "Kitchen"),
		item(Kettle, "Stovetop kettle", "Hearth", "40.00", true, "Home", "Kitchen"),
		item(Spoon, "Tea spoon", "Acme", "3.00", false, "Home", "Kitchen"),
		item("sku-47", "Side plate", "Hearth", "8.00", true, "Home", "Kitchen"),
		item(NewMug, "Enamel mug, red", "Acme", "11.00", true, "Home", "Kitchen"),
		item(Towel, "Tea towel", "Loom", "4.99", true, "Home", "Bath"),
		item("sku-50", "Soap", "Loom", "2.50", true, "Home", "Bath"),
		item("sku-51", "Bath mat", "Loom", "15.00", true, "Home", "Bath"),
		item(Trowel, "Trowel", "Digger", "9.00", true, "Garden"),
		item("sku-61", "Gloves", "Digger", "6.00", true, "Garden"),
		item("sku-62", "Hose", "Digger", "30.00", true, "Garden"),
		item("sku-70", "Ball", "Play", "5.00", true, "Toys"),
		item("sku-71", "Kite", "Play", "12.00", true, "Toys"),
		item("sku-72", "Puzzle", "Play", "10.00", true, "Toys"),
	}
}

// Events returns the shop's history as event JSON objects (the wire
// format of POST /v1/events).
func Events() []map[string]any {
	var out []map[string]any
	n := 0
	add := func(typ, cust, itemID string, at time.Time) {
		n++
		e := map[string]any{"event_id": fmt.Sprintf("ev-%04d", n), "type": typ, "customer_id": cust, "item_id": itemID,
			"timestamp": at.UTC().Format(time.RFC3339)}
		if typ == "purchase" {
			e["quantity"] = 1
			e["price"] = price(itemID)
			e["currency"] = "GBP"
			e["order_id"] = fmt.Sprintf("o-%s-%d", cust, at.Unix()/86400)
		}
		out = append(out, e)
	}
	day := func(d int) time.Time { return Now.Add(-time.Duration(d) * 24 * time.Hour) }
	buy := func(cust string, d int, items ...string) {
		for _, it := range items {
			add("view", cust, it, day(d).Add(-time.Hour))
			add("purchase", cust, it, day(d))
		}
	}
	for i := 1; i <= 6; i++ {
		c := fmt.Sprintf("b%02d", i)
		buy(c, 10+i, Mug, Teapot, Spoon)
		if i <= 3 {
			// Mugs wear out: half the mug buyers came back for another.
			buy(c, 5+i, Kettle, Mug)
		}
	}
	for i := 7; i <= 10; i++ {
		buy(fmt.Sprintf("b%02d", i), i, Trowel, "sku-61", "sku-70")
	}
	for i := 11; i <= 13; i++ {
		buy(fmt.Sprintf("b%02d", i), i, Towel, "sku-50", Mug)
	}
	for i := 14; i <= 15; i++ {
		buy(fmt.Sprintf("b%02d", i), i, "sku-71", "sku-72")
	}
	add("view", "b16", "sku-62", day(3))
	add("view", "b16", "sku-51", day(3))
	add("view", "b16", "sku-47", day(3))
	buy(Customer, 2, Mug)
	add("view", Customer, Trowel, day(1))
	add("add_to_cart", Customer, Towel, Now.Add(-time.Hour))
	return out
}

func price(itemID string) string {
	for _, it := range Items() {
		if it.ItemID == itemID {
			return it.Price
		}
	}
	return "1.00"
}
