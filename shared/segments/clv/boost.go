package clv

import (
	"fmt"
	"math"
	"slices"
)

// Boosted is a binary classifier made of gradient-boosted regression
// trees on the log-odds scale (Friedman 2001, with the Newton leaf values
// and L2 leaf penalty of Chen & Guestrin 2016): the log-odds of a row is
// Base plus Rate times the sum of the leaf values its features reach.
type Boosted struct {
	Base  float64 `json:"base"`
	Rate  float64 `json:"rate"`
	Trees []Tree  `json:"trees"`
}

// Tree is one regression tree, its root first.
type Tree []TreeNode

// TreeNode is a split (a row goes Left when its feature Feature is at most
// Threshold, Right otherwise) or, with Feature −1, a leaf of value Value.
type TreeNode struct {
	Feature   int     `json:"f"`
	Threshold float64 `json:"t,omitempty"`
	Left      int     `json:"l,omitempty"`
	Right     int     `json:"r,omitempty"`
	Value     float64 `json:"v,omitempty"`
}

// BoostConfig sets the size and regularisation of a boosted fit.
type BoostConfig struct {
	Trees int // number of trees
	Depth int // splits from the root to a leaf
	// Rate is the learning rate (shrinkage) applied to every tree.
	Rate float64
	// Lambda is the L2 penalty on leaf values.
	Lambda float64
	// MinHessian is the least summed Hessian p(1−p) a leaf may hold, so
	// a leaf holds at least 4·MinHessian rows.
	MinHessian float64
	// Bins is how many quantile bins (at most 256) each feature's values
	// are cut into; splits fall between bins.
	Bins int
}

// DefaultBoostConfig is the configuration of the churn model, chosen on
// windows inside the calibration period (docs/segmentation.md): 200
// trees of depth 2 at rate 0.05, λ 1, leaves of Hessian at least 20, 32 bins.
var DefaultBoostConfig = BoostConfig{Trees: 200, Depth: 2, Rate: 0.05, Lambda: 1, MinHessian: 20, Bins: 32}

func (c BoostConfig) validate() error {
	if c.Trees < 1 || c.Depth < 1 || !(c.Rate > 0) || c.Lambda < 0 || c.MinHessian < 0 || c.Bins < 2 || c.Bins > 256 {
		return fmt.Errorf("%w: boost config %+v", ErrInvalid, c)
	}
	return nil
}

// FitBoosted fits a boosted classifier of y (true: the positive class) on
// the rows of x by minimising the log loss. The fit is deterministic:
// the same rows in the same order give the same trees.
func FitBoosted(x [][]float64, y []bool, cfg BoostConfig) (Boosted, error) {
	if err := cfg.validate(); err != nil {
		return Boosted{}, err
	}
	if len(x) == 0 || len(x) != len(y) {
		return Boosted{}, fmt.Errorf("%w: %d rows, %d labels", ErrNoData, len(x), len(y))
	}
	k := len(x[0])
	var pos float64
	for i, r := range x {
		if len(r) != k {
			return Boosted{}, fmt.Errorf("%w: row %d has %d features, row 0 has %d", ErrInvalid, i, len(r), k)
		}
		if !finiteAll(r) {
			return Boosted{}, fmt.Errorf("%w: row %d: features %v", ErrInvalid, i, r)
		}
		if y[i] {
			pos++
		}
	}
	n := float64(len(x))
	if pos == 0 || pos == n {
		return Boosted{}, fmt.Errorf("%w: every row has the same label", ErrNoData)
	}
	b := booster{cfg: cfg, edges: make([][]float64, k), bins: make([][]uint8, k)}
	for j := range k {
		b.edges[j] = binEdges(x, j, cfg.Bins)
		b.bins[j] = make([]uint8, len(x))
		for i, r := range x {
			b.bins[j][i] = uint8(binOf(b.edges[j], r[j]))
		}
	}
	m := Boosted{Base: math.Log(pos / (n - pos)), Rate: cfg.Rate}
	score := make([]float64, len(x))
	for i := range score {
		score[i] = m.Base
	}
	b.g, b.h = make([]float64, len(x)), make([]float64, len(x))
	rows := make([]int, len(x))
	for range cfg.Trees {
		for i := range rows {
			p := sigmoid(score[i])
			b.g[i], b.h[i] = p, p*(1-p)
			if y[i] {
				b.g[i]--
			}
			rows[i] = i
		}
		b.tree, b.split = nil, b.split[:0]
		b.grow(rows, 0)
		for i := range rows {
			score[i] += cfg.Rate * b.leafOf(i)
		}
		m.Trees = append(m.Trees, b.tree)
	}
	return m, nil
}

// LogOdds returns the log-odds of the positive class for a row of
// features (as many as the fit had).
func (m Boosted) LogOdds(x []float64) float64 {
	s := m.Base
	for _, t := range m.Trees {
		i := 0
		for t[i].Feature >= 0 {
			if x[t[i].Feature] <= t[i].Threshold {
				i = t[i].Left
			} else {
				i = t[i].Right
			}
		}
		s += m.Rate * t[i].Value
	}
	return s
}

// validate checks that every split points inside its tree and at a
// feature below k, so LogOdds cannot index out of range.
func (m Boosted) validate(k int) error {
	for ti, t := range m.Trees {
		if len(t) == 0 {
			return fmt.Errorf("%w: tree %d is empty", ErrInvalid, ti)
		}
		for ni, nd := range t {
			if nd.Feature >= k || nd.Feature >= 0 && (nd.Left <= ni || nd.Right <= ni || nd.Left >= len(t) || nd.Right >= len(t)) {
				return fmt.Errorf("%w: tree %d node %d %+v", ErrInvalid, ti, ni, nd)
			}
		}
	}
	return nil
}

// booster holds one fit's binned features and the current gradients.
type booster struct {
	cfg   BoostConfig
	edges [][]float64 // per feature, ascending: bin b holds edges[b−1] < v ≤ edges[b]
	bins  [][]uint8   // per feature, per row
	g, h  []float64
	tree  Tree
	split []struct{ feature, bin int } // per node of tree, for leafOf
}

// grow adds the subtree of rows at depth and returns its root's index.
func (b *booster) grow(rows []int, depth int) int {
	var g, h float64
	for _, i := range rows {
		g += b.g[i]
		h += b.h[i]
	}
	lambda := b.cfg.Lambda
	me := len(b.tree)
	b.tree = append(b.tree, TreeNode{Feature: -1, Value: -g / (h + lambda)})
	b.split = append(b.split, struct{ feature, bin int }{-1, 0})
	if depth == b.cfg.Depth {
		return me
	}
	parent := g * g / (h + lambda)
	best, bestF, bestB := 1e-12, -1, 0
	for j, edges := range b.edges {
		hist := make([][2]float64, len(edges)+1)
		for _, i := range rows {
			hb := &hist[b.bins[j][i]]
			hb[0] += b.g[i]
			hb[1] += b.h[i]
		}
		var gl, hl float64
		for bin := range edges {
			gl += hist[bin][0]
			hl += hist[bin][1]
			gr, hr := g-gl, h-hl
			if hl < b.cfg.MinHessian || hr < b.cfg.MinHessian {
				continue
			}
			if gain := gl*gl/(hl+lambda) + gr*gr/(hr+lambda) - parent; gain > best {
				best, bestF, bestB = gain, j, bin
			}
		}
	}
	if bestF < 0 {
		return me
	}
	var left, right []int
	for _, i := range rows {
		if int(b.bins[bestF][i]) <= bestB {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	l := b.grow(left, depth+1)
	r := b.grow(right, depth+1)
	b.tree[me] = TreeNode{Feature: bestF, Threshold: b.edges[bestF][bestB], Left: l, Right: r}
	b.split[me] = struct{ feature, bin int }{bestF, bestB}
	return me
}

// leafOf is the value of the leaf training row i reaches in the current
// tree, found by bins so it agrees exactly with the split decisions.
func (b *booster) leafOf(i int) float64 {
	n := 0
	for b.tree[n].Feature >= 0 {
		s := b.split[n]
		if int(b.bins[s.feature][i]) <= s.bin {
			n = b.tree[n].Left
		} else {
			n = b.tree[n].Right
		}
	}
	return b.tree[n].Value
}

// binEdges cuts feature j between neighbouring distinct values, halfway:
// between every two when there are at most bins of them, else at up to
// bins−1 quantiles. A row with value v is in the first bin whose edge is
// ≥ v.
func binEdges(x [][]float64, j, bins int) []float64 {
	v := make([]float64, len(x))
	for i, r := range x {
		v[i] = r[j]
	}
	slices.Sort(v)
	distinct := slices.Compact(slices.Clone(v))
	var edges []float64
	if len(distinct) <= bins {
		for i := 1; i < len(distinct); i++ {
			edges = append(edges, distinct[i-1]+(distinct[i]-distinct[i-1])/2)
		}
		return edges
	}
	for q := 1; q < bins; q++ {
		at := v[q*len(v)/bins]
		k, _ := slices.BinarySearch(v, at) // first index of at
		if k == 0 {
			continue
		}
		e := v[k-1] + (at-v[k-1])/2
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// binOf is the bin of value v: the number of edges below v.
func binOf(edges []float64, v float64) int {
	b, _ := slices.BinarySearch(edges, v)
	return b
}
