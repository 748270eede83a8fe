package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func qty(n int64) *int64 { return &n }

func fieldsOf(err error) map[string]bool {
	out := map[string]bool{}
	if e, ok := err.(*errs.Error); ok {
		for _, f := range e.Fields {
			out[f.Field] = true
		}
	}
	return out
}

func TestValidateRequiredFieldsPerType(t *testing.T) {
	base := func(typ Type) Input {
		return Input{EventID: "e-1", Type: typ, CustomerID: "c-1", Timestamp: "2026-11-20T09:00:00Z"}
	}
	cases := []struct {
		name  string
		in    Input
		wrong []string
	}{
		{"view needs an item", base(View), []string{"item_id"}},
		{"purchase needs item, quantity, price, order", base(Purchase), []string{"item_id", "quantity", "currency", "order_id"}},
		{"refund needs a price", func() Input {
			in := base(Refund)
			in.ItemID, in.Quantity, in.OrderID, in.Currency = "sku-1", qty(1), "o-1", "GBP"
			return in
		}(), []string{"price"}},
		{"search needs a query", base(Search), []string{"query"}},
		{"no owner", Input{EventID: "e-1", Type: View, ItemID: "sku-1", Timestamp: "2026-11-20T09:00:00Z"}, []string{"customer_id"}},
		{"unknown type", Input{EventID: "e-1", Type: "click", CustomerID: "c-1", Timestamp: "2026-11-20T09:00:00Z"}, []string{"type"}},
		{"future", func() Input { in := base(View); in.ItemID, in.Timestamp = "sku-1", "2026-11-21T10:00:01Z"; return in }(), []string{"timestamp"}},
		{"not RFC 3339", func() Input { in := base(View); in.ItemID, in.Timestamp = "sku-1", "20/11/2026"; return in }(), []string{"timestamp"}},
		{"bad ids", Input{EventID: "e 1", Type: View, CustomerID: "c#1", AnonymousID: "-a", ItemID: "sku/1", Timestamp: "2026-11-20T09:00:00Z"},
			[]string{"event_id", "customer_id", "anonymous_id", "item_id"}},
		{"float money", func() Input {
			in := base(Purchase)
			in.ItemID, in.Quantity, in.OrderID, in.Price, in.Currency = "sku-1", qty(1), "o-1", "1.005", "GBP"
			return in
		}(), []string{"price"}},
		{"zero quantity", func() Input { in := base(AddToCart); in.ItemID, in.Quantity = "sku-1", qty(0); return in }(), []string{"quantity"}},
		{"properties not an object", func() Input {
			in := base(View)
			in.ItemID, in.Properties = "sku-1", json.RawMessage(`[1]`)
			return in
		}(), []string{"properties"}},
		{"properties too big", func() Input {
			in := base(View)
			in.ItemID, in.Properties = "sku-1", json.RawMessage(`{"x":"`+strings.Repeat("a", MaxPropertiesBytes)+`"}`)
			return in
		}(), []string{"properties"}},
	}
	for _, c := range cases {
		_, err := Validate(c.in, now, "")
		got := fieldsOf(err)
		for _, f := range c.wrong {
			if !got[f] {
				t.Errorf("%s: no error for %s (got %v)", c.name, f, err)
			}
		}
		if len(got) != len(c.wrong) {
			t.Errorf("%s: errors %v, want %v", c.name, got, c.wrong)
		}
	}
}

func TestValidateCleans(t *testing.T) {
	in := Input{EventID: "e-1", Type: Purchase, CustomerID: "c-1", ItemID: "sku-1", Quantity: qty(2), Price: "12.5",
		Currency: "GBP", OrderID: "o-1", Timestamp: "2026-11-20T11:15:00+01:00", Query: "ignored",
		Properties: json.RawMessage(`{ "campaign_id" : "spring" }`)}
	e, err := Validate(in, now, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.PriceMinor != 1250 || e.Amount() != 2500 || !e.Time.Equal(now.Add(15*time.Minute)) || e.Time.Location() != time.UTC ||
		e.Query != "" || e.Properties != `{"campaign_id":"spring"}` {
		t.Fatalf("%+v", e)
	}
	v, err := Validate(Input{EventID: "e-2", Type: View, AnonymousID: "a-1", ItemID: "sku-1", OrderID: "o-9",
		Timestamp: "2026-11-20T09:00:00Z"}, now, "")
	if err != nil || v.Quantity != 1 || v.OrderID != "" {
		t.Fatalf("view %+v %v", v, err)
	}
	if e.Hash() == v.Hash() || e.Hash() != e.Hash() {
		t.Fatal("hash")
	}
	changed := e
	changed.Quantity = 3
	if changed.Hash() == e.Hash() {
		t.Fatal("hash ignores the quantity")
	}
	withCat := e
	withCat.Category = "Home"
	if withCat.Hash() != e.Hash() {
		t.Fatal("the category comes from the catalog, not the client")
	}
}

func TestDecodeRejectsUnknownFields(t *testing.T) {
	if _, err := Decode([]byte(`{"event_id":"e-1","colour":"red"}`), "events[2]."); err == nil ||
		!strings.Contains(err.Error(), `unknown field "colour"`) || !strings.Contains(err.Error(), "events[2].") {
		t.Fatalf("%v", err)
	}
	if _, err := Decode([]byte(`{"event_id":"e-1","quantity":"2"}`), ""); err == nil || !strings.Contains(err.Error(), `"quantity"`) {
		t.Fatalf("%v", err)
	}
}

func TestSortKeyTimeOrdersLikeTime(t *testing.T) {
	a := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := a.Add(time.Nanosecond)
	if !(SortKeyTime(a) < SortKeyTime(b)) || len(SortKeyTime(a)) != len(SortKeyTime(b)) {
		t.Fatal(SortKeyTime(a), SortKeyTime(b))
	}
	back, err := ParseSortKeyTime(SortKeyTime(b))
	if err != nil || !back.Equal(b) {
		t.Fatal(back, err)
	}
}

func TestDecodeKnowsFieldsAsEncodingJSONDoes(t *testing.T) {
	// encoding/json matches names regardless of case; so does the check
	// for unknown fields.
	in, err := Decode([]byte(`{"Event_ID":"e-1","TYPE":"view"}`), "")
	if err != nil || in.EventID != "e-1" || in.Type != View {
		t.Fatalf("%+v %v", in, err)
	}
	for _, raw := range []string{`{not json`, `42`, `{"event_id":"e-1"} {}`} {
		if _, err := Decode([]byte(raw), "events[0]."); err == nil || !strings.Contains(err.Error(), "events[0].event is not a valid event object: invalid JSON") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestHistoryKeys(t *testing.T) {
	e := Event{ID: "e-1", Time: time.Date(2026, 11, 20, 10, 0, 0, 5, time.UTC)}
	if k := HistoryKey(e); k != "2026-11-20T10:00:00.000000005Z#e-1" || !ValidHistoryKey(k) {
		t.Fatalf("%q", k)
	}
	for _, k := range []string{"", "2026-11-20T10:00:00.000000005Z", "yesterday#e-1", "2026-11-20T10:00:00.000000005Z#bad id"} {
		if ValidHistoryKey(k) {
			t.Errorf("%q is valid", k)
		}
	}
}
