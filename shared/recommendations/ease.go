package recommendations

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// EASE is the closed-form linear item-to-item model of Steck,
// "Embarrassingly Shallow Autoencoders for Sparse Data" (WWW 2019). With X
// the customer × item weight matrix and λ the L2 penalty,
//
//	P = (XᵀX + λI)⁻¹,   B = I − P · diagMat(1/diag(P)),   diag(B) = 0,
//
// that is B_ij = −P_ij / P_jj for i ≠ j. A customer with row x scores item
// j as Σ_i x_i B_ij, so row i of B is what item i lends to every other
// item: its neighbour list, with negative weights (items that customers of
// i tend not to take) kept and added with their sign.
//
// The Gram matrix is dense over the head items only, so the work is
// O(head³) and the memory three head × head float64 matrices (Gram,
// Cholesky factor, inverse): about 390 MB for 4,096 items.

// EASEConfig sets the linear model's part of training.
type EASEConfig struct {
	// Head is how many items, the most interacted first, get EASE weights;
	// 0 disables the model and every item keeps co-occurrence neighbours.
	Head int
	// Lambda is the L2 penalty λ added to the Gram matrix's diagonal.
	Lambda float64
}

// easeMemory is the memory EASE needs for head items: the Gram matrix, its
// Cholesky factor and the inverse, each head² float64 values.
func easeMemory(head int) int64 { return 3 * int64(head) * int64(head) * 8 }

// ErrNotPositiveDefinite is returned when the penalised Gram matrix cannot
// be factorised, which only happens when λ ≤ 0 on degenerate data.
var ErrNotPositiveDefinite = errors.New("recommendations: EASE: XᵀX + λI is not positive definite (raise Lambda)")

// easeWeights solves EASE on the head items of m (indexes into m.itemIDs)
// and returns, for each head item, its k weights largest in absolute
// value, largest first, with their signs.
func (m *matrix) easeWeights(head []int32, lambda float64, k int) ([][]Neighbour, error) {
	h := len(head)
	if h == 0 {
		return nil, nil
	}
	if lambda <= 0 {
		return nil, fmt.Errorf("recommendations: EASE: Lambda must be positive, got %v", lambda)
	}
	pos := make([]int32, len(m.itemIDs))
	for i := range pos {
		pos[i] = -1
	}
	for n, i := range head {
		pos[i] = int32(n)
	}
	// Gram matrix G = XᵀX over the head, upper triangle, from the sparse
	// customer rows: Σ over customers of |row ∩ head|² / 2 products.
	g := make([]float64, h*h)
	var row []entry
	for _, r := range m.byCust {
		row = row[:0]
		for _, e := range r {
			if p := pos[e.idx]; p >= 0 {
				row = append(row, entry{p, e.w})
			}
		}
		slices.SortFunc(row, func(a, b entry) int { return cmp.Compare(a.idx, b.idx) })
		for x, a := range row {
			base := int(a.idx) * h
			for _, b := range row[x:] {
				g[base+int(b.idx)] += a.w * b.w
			}
		}
	}
	for i := range h {
		g[i*h+i] += lambda
	}
	var chol mat.Cholesky
	if !chol.Factorize(mat.NewSymDense(h, g)) {
		return nil, ErrNotPositiveDefinite
	}
	var p mat.SymDense
	if err := chol.InverseTo(&p); err != nil {
		return nil, fmt.Errorf("recommendations: EASE: invert: %w", err)
	}
	diag := make([]float64, h)
	for j := range h {
		diag[j] = p.At(j, j)
	}
	out := make([][]Neighbour, h)
	workers := min(runtime.GOMAXPROCS(0), h)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			top := newTopK(k, m.itemIDs, math.Abs)
			for {
				i := int(next.Add(1) - 1)
				if i >= h {
					return
				}
				top.reset()
				for j := range h {
					if j == i {
						continue
					}
					b := -p.At(i, j) / diag[j]
					if b != 0 && !math.IsNaN(b) {
						top.push(cell{head[j], b})
					}
				}
				out[i] = top.sorted()
			}
		})
	}
	wg.Wait()
	return out, nil
}

// headItems returns the indexes of the n items with the most customers
// (ties by id).
func (m *matrix) headItems(n int) []int32 {
	idx := make([]int32, 0, len(m.itemIDs))
	for i := range m.itemIDs {
		if m.count[i] > 0 {
			idx = append(idx, int32(i))
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		return cmp.Or(cmp.Compare(m.count[b], m.count[a]), cmp.Compare(m.itemIDs[a], m.itemIDs[b]))
	})
	return idx[:min(n, len(idx))]
}
