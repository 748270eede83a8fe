package catalog

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func badFields(err error) []string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestNew(t *testing.T) {
	no := false
	ok := Input{Title: "Mug", Category: []string{"Home", "Kitchen"}, Price: "12.50", Currency: "GBP"}
	cases := []struct {
		name string
		id   string
		in   func(Input) Input
		bad  []string
	}{
		{"valid", "sku-1", func(i Input) Input { return i }, nil},
		{"bad id", "sku 1", func(i Input) Input { return i }, []string{"x.item_id"}},
		{"no title", "sku-1", func(i Input) Input { i.Title = " "; return i }, []string{"x.title"}},
		{"no category", "sku-1", func(i Input) Input { i.Category = nil; return i }, []string{"x.category"}},
		{"hash in category", "sku-1", func(i Input) Input { i.Category = []string{"a#b"}; return i }, []string{"x.category[0]"}},
		{"float price", "sku-1", func(i Input) Input { i.Price = "12.505"; return i }, []string{"x.price"}},
		{"negative price", "sku-1", func(i Input) Input { i.Price = "-1"; return i }, []string{"x.price"}},
		{"currency", "sku-1", func(i Input) Input { i.Currency = "UKP"; return i }, []string{"x.currency"}},
		{"yen has no pence", "sku-1", func(i Input) Input { i.Currency = "JPY"; return i }, []string{"x.price"}},
		{"tag", "sku-1", func(i Input) Input { i.Tags = []string{"Sale!"}; return i }, []string{"x.tags[0]"}},
		{"title too long", "sku-1", func(i Input) Input { i.Title = strings.Repeat("é", MaxTitleLen+1); return i }, []string{"x.title"}},
		{"out of stock", "sku-1", func(i Input) Input { i.InStock = &no; return i }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.id, c.in(ok), now, "x.")
			if got := badFields(err); !slices.Equal(got, c.bad) {
				t.Fatalf("bad fields %v, want %v (%v)", got, c.bad, err)
			}
		})
	}
}

func TestItemJSONKeepsPriceExact(t *testing.T) {
	it, err := New("sku-1", Input{Title: "Mug", Category: []string{"Home"}, Price: "0.10", Currency: "GBP"}, now, "")
	if err != nil {
		t.Fatal(err)
	}
	if it.PriceMinor != 10 || !it.InStock || it.TopCategory() != "Home" {
		t.Fatalf("item %+v", it)
	}
	b, _ := json.Marshal(it.ToView())
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["price"] != "0.10" || m["in_stock"] != true || m["item_id"] != "sku-1" {
		t.Fatalf("json %s", b)
	}
	if _, has := m["PriceMinor"]; has {
		t.Fatalf("minor units leaked: %s", b)
	}
}

func TestValidCategory(t *testing.T) {
	long := strings.Repeat("a", MaxCategoryLen)
	deep := strings.TrimSuffix(strings.Repeat(long+"/", MaxCategoryDepth), "/")
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"Home", true},
		{"Home/Kitchen", true},
		{"Garden & Patio/Tools", true},
		{long, true},
		{deep, true},
		{"", false},
		{" ", false},
		{"Home#1", false},
		{"Home//Bath", false},
		{"/Home", false},
		{"Home/", false},
		{"Home/ /Bath", false},
		{long + "a", false},
		{deep + "/a", false},
		{"Home/\x00", false},
		{"Home/\xff", false},
	} {
		if got := ValidCategory(c.path); got != c.ok {
			t.Errorf("ValidCategory(%q) = %v, want %v", c.path, got, c.ok)
		}
	}
	// Every name New accepts is a valid one-level path.
	for _, name := range []string{"Home", "Kitchen & Dining", long} {
		if _, err := New("sku-1", Input{Title: "Mug", Category: []string{name}, Price: "1", Currency: "GBP"}, now, ""); err != nil || !ValidCategory(name) {
			t.Errorf("name %q: New %v, ValidCategory %v", name, err, ValidCategory(name))
		}
	}
}
