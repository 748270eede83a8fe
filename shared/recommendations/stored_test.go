package recommendations

import (
	"math"
	"testing"
	"time"

	"tailor/shared/catalog"
)

func TestRound6(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{0, 0},
		{0.123456789, 0.123457},
		{1234567, 1234570},
		{-2.5e-7, -2.5e-7},
		{1.0 / 3, 0.333333},
		{math.NaN(), 0},
		{math.Inf(1), 0},
		{math.Inf(-1), 0},
	}
	for _, tc := range tests {
		if got := Round6(tc.in); got != tc.want {
			t.Errorf("Round6(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestUnderCategory(t *testing.T) {
	tests := []struct {
		path, prefix string
		want         bool
	}{
		{"Home/Kitchen", "Home", true},
		{"Home/Kitchen", "Home/Kitchen", true},
		{"Home/Kitchen", "/Home/", true},
		{"Home/Kitchen", "", true},
		{"", "", true},
		{"Homeware", "Home", false},
		{"Home", "Home/Kitchen", false},
		{"Garden", "Home", false},
		{"", "Home", false},
	}
	for _, tc := range tests {
		if got := UnderCategory(tc.path, tc.prefix); got != tc.want {
			t.Errorf("UnderCategory(%q, %q) = %v, want %v", tc.path, tc.prefix, got, tc.want)
		}
	}
}

func TestCatalogItem(t *testing.T) {
	it := catalog.Item{ID: "mug", Title: "Mug", Category: []string{"Home", "Kitchen", "Mugs"}, Brand: "Acme", PriceMinor: 1250,
		Currency: "GBP", InStock: false, UpdatedAt: time.Now()}
	want := Item{ItemID: "mug", Category: "Home/Kitchen/Mugs", Brand: "Acme", PriceMinor: 1250, InStock: false}
	if got := CatalogItem(it); got != want {
		t.Fatalf("CatalogItem = %+v, want %+v", got, want)
	}
	if got := CatalogItem(it).TopCategory(); got != it.TopCategory() {
		t.Fatalf("top category %q, catalogue's %q", got, it.TopCategory())
	}
}
