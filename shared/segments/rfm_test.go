package segments

import (
	"errors"
	"testing"
)

// TestEveryCellHasOneSegment enumerates all 125 (R,F,M) cells.
func TestEveryCellHasOneSegment(t *testing.T) {
	seen := map[Segment]int{}
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			for m := 1; m <= 5; m++ {
				s, err := SegmentOf(RFMScore{r, f, m})
				if err != nil {
					t.Fatalf("cell %d%d%d: %v", r, f, m, err)
				}
				seen[s]++
			}
		}
	}
	total := 0
	for _, s := range Segments {
		if seen[s] == 0 {
			t.Errorf("segment %q has no cell", s)
		}
		total += seen[s]
	}
	if total != 125 || len(seen) != len(Segments) {
		t.Errorf("%d cells over %d segments; want 125 over %d", total, len(seen), len(Segments))
	}
	for _, bad := range []RFMScore{{0, 1, 1}, {1, 6, 1}, {1, 1, -1}} {
		if _, err := SegmentOf(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("SegmentOf(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSegmentMapCorners(t *testing.T) {
	tests := []struct {
		cell RFMScore
		want Segment
	}{
		{RFMScore{5, 5, 5}, Champions},
		{RFMScore{5, 1, 1}, New},
		{RFMScore{1, 1, 1}, Lost},
		{RFMScore{1, 5, 5}, CantLoseThem},
		{RFMScore{2, 4, 3}, AtRisk},
		{RFMScore{3, 3, 3}, NeedAttention},
		{RFMScore{4, 1, 1}, Promising},
		{RFMScore{3, 1, 2}, AboutToSleep},
		{RFMScore{4, 4, 4}, Loyal},
		{RFMScore{5, 2, 3}, PotentialLoyalist},
		{RFMScore{2, 1, 1}, Hibernating},
	}
	for _, tt := range tests {
		if got, _ := SegmentOf(tt.cell); got != tt.want {
			t.Errorf("SegmentOf(%+v) = %s, want %s", tt.cell, got, tt.want)
		}
	}
}

func TestQuintilesAndTies(t *testing.T) {
	tests := []struct {
		name   string
		values []int64
		want   [4]int64
	}{
		{"ten distinct", []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, [4]int64{2, 4, 6, 8}},
		{"five", []int64{5, 1, 4, 2, 3}, [4]int64{1, 2, 3, 4}},
		{"one value", []int64{7, 7, 7}, [4]int64{7, 7, 7, 7}},
		{"mostly ones", []int64{1, 1, 1, 1, 1, 1, 1, 2, 3, 9}, [4]int64{1, 1, 1, 2}},
	}
	for _, tt := range tests {
		var h Histogram
		for _, v := range tt.values {
			h.Add(v)
		}
		got, err := h.Quintiles()
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	var empty Histogram
	if _, err := empty.Quintiles(); !errors.Is(err, ErrNoData) {
		t.Errorf("empty histogram: %v", err)
	}
}

func TestScoreTiesAndInversion(t *testing.T) {
	cuts := RFMCuts{Recency: [4]int64{10, 30, 60, 120}, Frequency: [4]int64{1, 1, 2, 4}, Monetary: [4]int64{1000, 2000, 5000, 10000}}
	tests := []struct {
		in   RFMInput
		want RFMScore
	}{
		{RFMInput{RecencyDays: 0, Frequency: 1, Monetary: 0}, RFMScore{5, 1, 1}},
		{RFMInput{RecencyDays: 10, Frequency: 2, Monetary: 1000}, RFMScore{5, 3, 1}}, // at a cut: the better / lower side
		{RFMInput{RecencyDays: 11, Frequency: 3, Monetary: 1010}, RFMScore{4, 4, 2}},
		// Compared at three significant digits: 1,009 reads as 1,000.
		{RFMInput{RecencyDays: 11, Frequency: 3, Monetary: 1009}, RFMScore{4, 4, 1}},
		{RFMInput{RecencyDays: 500, Frequency: 50, Monetary: 1_000_000}, RFMScore{1, 5, 5}},
	}
	for _, tt := range tests {
		if got := cuts.Score(tt.in); got != tt.want {
			t.Errorf("Score(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestQuantizeMoney(t *testing.T) {
	tests := []struct{ in, want int64 }{
		{0, 0}, {999, 999}, {1000, 1000}, {1234, 1230}, {123456, 123000}, {-98765, -98700},
		{9_223_372_036_854_775_807, 9_220_000_000_000_000_000},
	}
	for _, tt := range tests {
		if got := QuantizeMoney(tt.in); got != tt.want {
			t.Errorf("QuantizeMoney(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestRFMPartialsMerge checks that workers' partials merge into the cut
// points of the whole.
func TestRFMPartialsMerge(t *testing.T) {
	customers := synthetic(5000, 1)
	var whole RFMPartial
	parts := make([]RFMPartial, 3)
	for i, c := range customers {
		in := c.rfm()
		if err := whole.Add(in); err != nil {
			t.Fatal(err)
		}
		if err := parts[i%3].Add(in); err != nil {
			t.Fatal(err)
		}
	}
	var merged RFMPartial
	for i := range parts {
		merged.Merge(&parts[2-i])
	}
	a, err := whole.Cuts()
	if err != nil {
		t.Fatal(err)
	}
	b, err := merged.Cuts()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("merged cuts %+v, whole %+v", b, a)
	}
}

func TestRFMSummary(t *testing.T) {
	in := []RFMInput{
		{"a", 1, 9, 90000}, {"b", 2, 8, 80000}, {"c", 300, 1, 1000}, {"d", 250, 1, 2000}, {"e", 5, 1, 500},
	}
	res, err := RFM(in)
	if err != nil {
		t.Fatal(err)
	}
	var n, rev int64
	var share float64
	for _, s := range res.Summary {
		n += s.Customers
		rev += s.Revenue
		share += s.RevenueShare
	}
	if n != 5 || rev != 173500 || share < 0.999999 || share > 1.000001 {
		t.Errorf("summary totals %d customers, %d revenue, %v share", n, rev, share)
	}
	if res.Segments[0] != Champions || res.Segments[2] != Lost {
		t.Errorf("segments %v", res.Segments)
	}
	if _, err := RFM([]RFMInput{{"x", -1, 1, 0}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative recency: %v", err)
	}
}
