package clv

import (
	"errors"
	"math"
	"testing"
)

func TestExpectedSpend(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.74, V: 15.44}
	pop := 6.25 * 15.44 / 2.74
	tests := []struct {
		x    int
		mean float64
		want float64
	}{
		{0, 0, pop},
		{0, 50, pop},
		{1, 0, pop},
		// p(v + x·mean)/(px + q - 1), the note 025 form.
		{1, 20, 6.25 * (15.44 + 20) / (6.25 + 2.74)},
		{10, 100, 6.25 * (15.44 + 1000) / (62.5 + 2.74)},
		{1 << 40, 12.5, 12.5},
	}
	for _, tt := range tests {
		got, err := m.ExpectedSpend(tt.x, tt.mean)
		if err != nil || math.Abs(got-tt.want) > 1e-9*tt.want {
			t.Errorf("ExpectedSpend(%d, %v) = %v, %v; want %v", tt.x, tt.mean, got, err, tt.want)
		}
	}
	if _, err := (GammaGamma{P: 1, Q: 0.9, V: 1}).ExpectedSpend(1, 10); !errors.Is(err, ErrNoMeanSpend) {
		t.Errorf("q < 1: %v", err)
	}
}

// TestCDNOWMeanRepeatSpend checks the fitted model's population mean
// against the mean of the observed repeat spends (35.08 in note 025's data).
func TestCDNOWMeanRepeatSpend(t *testing.T) {
	_, sp := cdnowFromFile(t)
	var sum float64
	for _, r := range sp.rows() {
		sum += r.mean * r.weight
	}
	if got := sum / sp.Customers(); math.Abs(got-35.08) > 0.005 {
		t.Errorf("mean repeat spend %.4f, want 35.08", got)
	}
}

func TestSpendSummaryAdd(t *testing.T) {
	var s SpendSummary
	tests := []struct {
		x    int
		mean float64
		used bool
		err  error
	}{
		{2, 10, true, nil},
		{0, 0, false, nil},
		{3, 0, false, nil},
		{-1, 5, false, ErrInvalid},
		{1, math.NaN(), false, ErrInvalid},
	}
	for _, tt := range tests {
		used, err := s.Add(tt.x, tt.mean)
		if used != tt.used || !errors.Is(err, tt.err) {
			t.Errorf("Add(%d, %v) = %v, %v; want %v, %v", tt.x, tt.mean, used, err, tt.used, tt.err)
		}
	}
	if s.Customers() != 1 {
		t.Errorf("%v customers recorded, want 1", s.Customers())
	}
}
