package segments

import (
	"fmt"
	"strings"
	"testing"

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
