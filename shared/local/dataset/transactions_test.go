package dataset

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"12.50", 1250, nil},
		{"12.5", 1250, nil},
		{"7", 700, nil},
		{"-3.10", -310, nil},
		{"+0.01", 1, nil},
		{".99", 99, nil},
		{"1.500", 150, nil},
		{"92233720368547758.07", 9223372036854775807, nil},
		{"92233720368547758.08", 0, ErrAmount},
		{"1.005", 0, ErrAmount},
		{"", 0, ErrAmount},
		{".", 0, ErrAmount},
		{"1e3", 0, ErrAmount},
		{"1,00", 0, ErrAmount},
		{"--1", 0, ErrAmount},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, 2)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"1997-01-01", "1997-01-01", nil},
		{"19970930", "1997-09-30", nil},
		{"2026-11-20T10:15:00Z", "2026-11-20", nil},
		// The local day of the timestamp, not the UTC day.
		{"2026-11-20T23:30:00-05:00", "2026-11-20", nil},
		{"2026-11-20T00:30:00+09:00", "2026-11-20", nil},
		{"20/11/2026", "", ErrDate},
		{"2026-02-30", "", ErrDate},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseDate(%q) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && d.String() != tt.want {
			t.Errorf("ParseDate(%q) = %s, want %s", tt.in, d, tt.want)
		}
	}
}

func TestReadTransactions(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Transaction
		err  error
	}{
		{
			name: "reordered columns and extras",
			in:   "amount,channel,customer_id,date\n12.50,web,c1,2024-01-02\n3,pos,c2,2024-01-03T09:00:00Z\n",
			want: []Transaction{{"c1", 19724, 1250}, {"c2", 19725, 300}},
		},
		{name: "missing column", in: "customer_id,date\nc1,2024-01-02\n", err: ErrFormat},
		{name: "bad amount", in: "customer_id,date,amount\nc1,2024-01-02,1.234\n", err: ErrAmount},
		{name: "bad date", in: "customer_id,date,amount\nc1,02/01/2024,1\n", err: ErrDate},
		{name: "empty id", in: "customer_id,date,amount\n,2024-01-02,1\n", err: ErrFormat},
	}
	for _, tt := range tests {
		got, err := ReadTransactions(strings.NewReader(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: row %d = %+v, want %+v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	d := func(s string) Date { return mustDate(t, s) }
	txs := []Transaction{
		{"b", d("2024-01-10"), 500},
		{"a", d("2024-01-05"), 1000},
		{"a", d("2024-01-01"), 200},
		{"a", d("2024-01-05"), 300},  // same day as above: one occasion
		{"a", d("2024-01-08"), -300}, // refund: not a purchase
		{"a", d("2024-01-31"), 100},  // the end day is inside the period
		{"a", d("2024-02-01"), 900},  // after the end: ignored
		{"c", d("2024-02-02"), 900},  // first purchase after the end
	}
	got := Summarize(txs, d("2024-01-31"))
	want := []CustomerSummary{
		{CustomerID: "a", First: d("2024-01-01"), Last: d("2024-01-31"), PurchaseDays: 3, Repeat: 2,
			RecencyDays: 30, AgeDays: 30, DaysSinceLast: 0, TotalSpend: 1600, RepeatSpend: 1400},
		{CustomerID: "b", First: d("2024-01-10"), Last: d("2024-01-10"), PurchaseDays: 1, Repeat: 0,
			RecencyDays: 0, AgeDays: 21, DaysSinceLast: 21, TotalSpend: 500, RepeatSpend: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("customer %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if m := got[0].MeanRepeatSpend(); m != 700 {
		t.Errorf("MeanRepeatSpend = %v, want 700", m)
	}
}
