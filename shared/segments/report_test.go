package segments

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/segments/clv"
)

func TestSpendIssueOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("fit Gamma-Gamma: %w", clv.ErrNoData), SpendTooFewRepeatBuyers},
		{clv.ErrNoMeanSpend, SpendNoFiniteMean},
		{fmt.Errorf("fit Gamma-Gamma on 3 customers: %w", fmt.Errorf("%w: gonum says no", clv.ErrNotConverged)), SpendNotConverged},
		{fmt.Errorf("%w: p = -1", clv.ErrInvalid), SpendFitFailed},
	} {
		got := SpendIssueOf(tc.err)
		if got == nil || got.Code != tc.code || got.Message == "" || strings.Contains(got.Message, "gonum") {
			t.Errorf("SpendIssueOf(%v) = %+v, want code %s", tc.err, got, tc.code)
		}
	}
	if SpendIssueOf(nil) != nil {
		t.Error("no error, no issue")
	}
}

func TestSortReports(t *testing.T) {
	reps := []SegmentReport{{Segment: "zzz"}, {Segment: "lost"}, {Segment: "aaa"}, {Segment: "champions"}, {Segment: "cant-lose-them"}}
	SortReports(reps)
	var got []string
	for _, r := range reps {
		got = append(got, r.Segment)
	}
	if want := "champions cant-lose-them lost aaa zzz"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestSlugs(t *testing.T) {
	if got := CantLoseThem.Slug(); got != "cant-lose-them" {
		t.Errorf("slug %q", got)
	}
	for _, slug := range Slugs() {
		if s, ok := SegmentBySlug(slug); !ok || s.Slug() != slug {
			t.Errorf("SegmentBySlug(%q) = %q, %v", slug, s, ok)
		}
	}
	if _, ok := SegmentBySlug("whales"); ok {
		t.Error("unknown slug found")
	}
}

func TestActivityCountsRecentBuyersAndRevenuePerCurrency(t *testing.T) {
	asOf := time.Date(2011, 12, 9, 0, 0, 0, 0, time.UTC)
	var a, b Activity
	// Bought on the as-of day (counts) and 100 days earlier (revenue only).
	a.AddCustomer(map[string]customers.Amounts{"2011-12-09": {"GBP": 500}, "2011-08-31": {"GBP": 100}}, map[string]int64{"2011-12-09": 4, "2011-12-08": 2, "2011-08-31": 1}, asOf)
	// Bought 40 days before: within 90 days, not within 30; a later
	// purchase does not count.
	b.AddCustomer(map[string]customers.Amounts{"2011-10-30": {"USD": 700}, "2011-12-10": {"USD": 9}}, map[string]int64{"2011-12-10": 3, "2011-12-09": 1}, asOf)
	// Bought on day 30 back (2011-11-10 is the first day of the 30) in two currencies.
	b.AddCustomer(map[string]customers.Amounts{"2011-11-10": {"USD": 10, "GBP": 20}}, nil, asOf)
	b.AddCustomer(nil, map[string]int64{"2011-12-01": 5}, asOf)
	a.Merge(&b)
	if a.Buyers30d != 2 || a.Buyers90d != 3 {
		t.Errorf("buyers 30d %d, 90d %d; want 2 and 3", a.Buyers30d, a.Buyers90d)
	}
	if a.Revenue["GBP"] != 620 || a.Revenue["USD"] != 710 {
		t.Errorf("revenue %v", a.Revenue)
	}
	var dates []string
	for _, d := range a.Days {
		dates = append(dates, d.Date)
	}
	// Days with events but no purchase count too; days after the as-of
	// date and before the 90 days do not.
	if want := []string{"2011-10-30", "2011-11-10", "2011-12-01", "2011-12-08", "2011-12-09"}; !slices.Equal(dates, want) {
		t.Fatalf("days %v, want %v", dates, want)
	}
	if d := a.Days[1]; d.Buyers != 1 || d.Events != 0 || d.Revenue["GBP"] != 20 || d.Revenue["USD"] != 10 {
		t.Errorf("day %+v", d)
	}
	if d := a.Days[4]; d.Buyers != 1 || d.Events != 5 || d.Revenue["GBP"] != 500 {
		t.Errorf("as-of day %+v", d)
	}
	if d := a.Days[2]; d.Buyers != 0 || d.Events != 5 || len(d.Revenue) != 0 {
		t.Errorf("day without purchases %+v", d)
	}
}
