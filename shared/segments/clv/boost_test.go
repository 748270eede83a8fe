package clv

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// xorRows draws n rows of two uniform features labelled by whether
// exactly one exceeds 0.5, a tenth of the labels flipped: a pure
// interaction that no sum of one-feature steps can learn.
func xorRows(n int, seed uint64) ([][]float64, []bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x, y := make([][]float64, n), make([]bool, n)
	for i := range x {
		x[i] = []float64{rng.Float64(), rng.Float64()}
		y[i] = (x[i][0] > 0.5) != (x[i][1] > 0.5)
		if rng.Float64() < 0.1 {
			y[i] = !y[i]
		}
	}
	return x, y
}

func accuracy(m Boosted, x [][]float64, y []bool) float64 {
	var ok float64
	for i, r := range x {
		if (m.LogOdds(r) > 0) == y[i] {
			ok++
		}
	}
	return ok / float64(len(x))
}

func logLoss(m Boosted, x [][]float64, y []bool) float64 {
	var s float64
	for i, r := range x {
		p := sigmoid(m.LogOdds(r))
		if !y[i] {
			p = 1 - p
		}
		s -= math.Log(p)
	}
	return s / float64(len(x))
}

func TestFitBoostedLearnsInteraction(t *testing.T) {
	x, y := xorRows(2000, 1)
	tx, ty := xorRows(2000, 2)
	for _, tt := range []struct {
		depth    int
		min, max float64
	}{
		{depth: 2, min: 0.85, max: 1}, // close to the 0.9 the noise allows
		{depth: 1, min: 0, max: 0.6},  // additive stumps cannot
	} {
		cfg := BoostConfig{Trees: 100, Depth: tt.depth, Rate: 0.1, Lambda: 1, MinHessian: 5, Bins: 16}
		m, err := FitBoosted(x, y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a := accuracy(m, tx, ty); a < tt.min || a > tt.max {
			t.Errorf("depth %d: test accuracy %.3f, want in [%v, %v]", tt.depth, a, tt.min, tt.max)
		}
		if len(m.Trees) != cfg.Trees {
			t.Errorf("depth %d: %d trees", tt.depth, len(m.Trees))
		}
		// Each tree lowers the training loss: the first half of the trees
		// fit worse than all of them, and the base alone worse still.
		half := m
		half.Trees = m.Trees[:cfg.Trees/2]
		base := Boosted{Base: m.Base}
		if !(logLoss(base, x, y) > logLoss(half, x, y) && logLoss(half, x, y) > logLoss(m, x, y)) {
			t.Errorf("depth %d: training log loss base %.4f, half %.4f, all %.4f", tt.depth, logLoss(base, x, y), logLoss(half, x, y), logLoss(m, x, y))
		}
	}
}

func TestFitBoostedDeterministicAndStorable(t *testing.T) {
	x, y := xorRows(500, 3)
	a, err := FitBoosted(x, y, DefaultBoostConfig)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FitBoosted(x, y, DefaultBoostConfig)
	if !reflect.DeepEqual(a, b) {
		t.Error("two fits on the same rows differ")
	}
	if math.Abs(a.Base-math.Log(count(y)/(float64(len(y))-count(y)))) > 1e-12 {
		t.Errorf("base %v is not the log-odds of the labels", a.Base)
	}
	js, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Boosted
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range x[:50] {
		if back.LogOdds(r) != a.LogOdds(r) {
			t.Fatalf("stored model scores %v, fitted %v", back.LogOdds(r), a.LogOdds(r))
		}
	}
	if err := back.validate(2); err != nil {
		t.Error(err)
	}
	if err := back.validate(1); !errors.Is(err, ErrInvalid) {
		t.Errorf("a model of two features checked against one: %v", err)
	}
	back.Trees[0][0].Left = 0 // a loop
	if err := back.validate(2); !errors.Is(err, ErrInvalid) {
		t.Errorf("a tree with a loop: %v", err)
	}
}

func count(y []bool) float64 {
	var n float64
	for _, v := range y {
		if v {
			n++
		}
	}
	return n
}

func TestFitBoostedErrors(t *testing.T) {
	ok := BoostConfig{Trees: 1, Depth: 1, Rate: 0.1, Bins: 4}
	for _, tt := range []struct {
		name string
		x    [][]float64
		y    []bool
		cfg  BoostConfig
		want error
	}{
		{"no rows", nil, nil, ok, ErrNoData},
		{"labels mismatch", [][]float64{{1}, {2}}, []bool{true}, ok, ErrNoData},
		{"one class", [][]float64{{1}, {2}}, []bool{true, true}, ok, ErrNoData},
		{"ragged", [][]float64{{1}, {2, 3}}, []bool{true, false}, ok, ErrInvalid},
		{"NaN", [][]float64{{1}, {math.NaN()}}, []bool{true, false}, ok, ErrInvalid},
		{"no trees", [][]float64{{1}, {2}}, []bool{true, false}, BoostConfig{Depth: 1, Rate: 0.1, Bins: 4}, ErrInvalid},
		{"too many bins", [][]float64{{1}, {2}}, []bool{true, false}, BoostConfig{Trees: 1, Depth: 1, Rate: 0.1, Bins: 300}, ErrInvalid},
	} {
		if _, err := FitBoosted(tt.x, tt.y, tt.cfg); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestBinEdges(t *testing.T) {
	for _, tt := range []struct {
		values []float64
		bins   int
		want   []float64
	}{
		{[]float64{1, 2, 3, 4}, 4, []float64{1.5, 2.5, 3.5}},
		{[]float64{4, 3, 2, 1}, 2, []float64{2.5}},
		{[]float64{1, 1, 1, 1, 2}, 4, []float64{1.5}}, // ties collapse
		{[]float64{7, 7, 7}, 8, nil},                  // constant: no split
		{[]float64{-1, -1, 0, 5, 5, 9}, 3, []float64{-0.5, 2.5}},
	} {
		x := make([][]float64, len(tt.values))
		for i, v := range tt.values {
			x[i] = []float64{v}
		}
		got := binEdges(x, 0, tt.bins)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("binEdges(%v, %d) = %v, want %v", tt.values, tt.bins, got, tt.want)
		}
		for _, v := range tt.values {
			b := binOf(got, v)
			if b > 0 && !(got[b-1] < v) || b < len(got) && !(v <= got[b]) {
				t.Errorf("%v in bin %d of %v", v, b, got)
			}
		}
	}
}
