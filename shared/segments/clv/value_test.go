package clv

import (
	"errors"
	"math"
	"testing"
)

func TestLifetimeValue(t *testing.T) {
	weeks := ValueOptions{UnitsPerMonth: DaysPerMonth / 7}
	c := Customer{X: 26, TX: 30.85714, T: 31}
	year, err := published.ExpectedPurchases(c, 365.25/7)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		c     Customer
		spend float64
		opts  ValueOptions
		want  func(v float64) bool
	}{
		{"undiscounted year = E[Y(52.18 weeks)] x spend", c, 40, weeks,
			func(v float64) bool { return math.Abs(v-40*year) < 1e-9*v }},
		{"discount lowers value", c, 40, ValueOptions{UnitsPerMonth: DaysPerMonth / 7, MonthlyDiscount: 0.01},
			func(v float64) bool { return v < 40*year && v > 40*year/math.Pow(1.01, 12) }},
		{"zero spend", c, 0, weeks, func(v float64) bool { return v == 0 }},
		{"huge x stays finite", Customer{X: 1_000_000, TX: 39, T: 39}, 1e6, weeks,
			func(v float64) bool { return finite(v) && v > 0 }},
		{"gone customer is worth little", Customer{X: 10, TX: 1, T: 200}, 40, weeks,
			func(v float64) bool { return v >= 0 && v < 1 }},
	}
	for _, tt := range tests {
		v, err := LifetimeValue(published, tt.c, tt.spend, tt.opts)
		if err != nil || !tt.want(v) {
			t.Errorf("%s: %v, %v", tt.name, v, err)
		}
	}
	bad := []ValueOptions{{}, {UnitsPerMonth: 4, MonthlyDiscount: -0.1}, {UnitsPerMonth: 4, Months: -1}}
	for _, o := range bad {
		if _, err := LifetimeValue(published, c, 1, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("options %+v: %v, want ErrInvalid", o, err)
		}
	}
}

func TestChurnBand(t *testing.T) {
	tests := []struct {
		p    float64
		want ChurnRisk
	}{
		{0, ChurnLow}, {0.2499, ChurnLow}, {0.25, ChurnMedium}, {0.4999, ChurnMedium},
		{0.5, ChurnHigh}, {0.7499, ChurnHigh}, {0.75, ChurnVeryHigh}, {1, ChurnVeryHigh},
	}
	for _, tt := range tests {
		if got := ChurnBand(tt.p); got != tt.want {
			t.Errorf("ChurnBand(%v) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
