package money

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		err     error
	}{
		{"12.50", "GBP", 1250, nil},
		{"12.5", "GBP", 1250, nil},
		{"12.500", "GBP", 1250, nil},
		{"0.01", "USD", 1, nil},
		{"12", "EUR", 1200, nil},
		{"-3.20", "GBP", -320, nil},
		{"1500", "JPY", 1500, nil},
		{"1.5", "JPY", 0, ErrPrecision},
		{"1.234", "KWD", 1234, nil},
		{"12.505", "GBP", 0, ErrPrecision},
		{"", "GBP", 0, ErrSyntax},
		{".5", "GBP", 0, ErrSyntax},
		{"5.", "GBP", 0, ErrSyntax},
		{"1e3", "GBP", 0, ErrSyntax},
		{"1,000", "GBP", 0, ErrSyntax},
		{"92233720368547758.07", "GBP", math.MaxInt64, nil},
		{"92233720368547758.08", "GBP", 0, ErrRange},
		{"1", "XXX", 0, ErrCurrency},
		{"1", "gbp", 0, ErrCurrency},
	}
	for _, c := range cases {
		got, err := Parse(c.in, c.cur)
		if !errors.Is(err, c.err) || (err == nil && got != c.want) {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d, %v", c.in, c.cur, got, err, c.want, c.err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	cases := []struct {
		minor int64
		cur   string
		want  string
	}{
		{1250, "GBP", "12.50"}, {1, "GBP", "0.01"}, {-320, "GBP", "-3.20"}, {0, "GBP", "0.00"},
		{1500, "JPY", "1500"}, {1234, "KWD", "1.234"}, {math.MinInt64 + 1, "GBP", "-92233720368547758.07"},
	}
	for _, c := range cases {
		if got := Format(c.minor, c.cur); got != c.want {
			t.Errorf("Format(%d, %s) = %q, want %q", c.minor, c.cur, got, c.want)
		}
		back, err := Parse(c.want, c.cur)
		if err != nil || back != c.minor {
			t.Errorf("round trip of %q: %d, %v", c.want, back, err)
		}
	}
}

func TestDigitsTable(t *testing.T) {
	for cur, want := range map[string]int{"GBP": 2, "USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "CLF": 4} {
		if d, ok := Digits(cur); !ok || d != want {
			t.Errorf("Digits(%s) = %d, %v", cur, d, ok)
		}
	}
	for _, bad := range []string{"", "GB", "GBPX", "BP ", "ZZZ"} {
		if _, ok := Digits(bad); ok {
			t.Errorf("Digits(%q) accepted", bad)
		}
	}
}
