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
			top := make(absTopK, 0, k+1)
			for {
				i := int(next.Add(1) - 1)
				if i >= h {
					return
				}
				top = top[:0]
				for j := range h {
					if j == i {
						continue
					}
					b := -p.At(i, j) / diag[j]
					if b != 0 && !math.IsNaN(b) {
						top = top.push(cell{head[j], b}, k, m.itemIDs)
					}
				}
				out[i] = top.sorted(m.itemIDs)
			}
		})
	}
	wg.Wait()
	return out, nil
}

// absTopK keeps the k cells largest in absolute value; ties break on item
// id so that lists are deterministic.
type absTopK []cell

func absWorse(a, b cell, ids []string) bool {
	if x, y := math.Abs(a.score), math.Abs(b.score); x != y {
		return x < y
	}
	return ids[a.idx] > ids[b.idx]
}

func (h absTopK) push(c cell, k int, ids []string) absTopK {
	if k <= 0 {
		return h
	}
	if len(h) == k {
		if !absWorse(h[0], c, ids) {
			return h
		}
		h[0] = c
		for n := 0; ; {
			l := 2*n + 1
			if l >= len(h) {
				break
			}
			s := l
			if r := l + 1; r < len(h) && absWorse(h[r], h[l], ids) {
				s = r
			}
			if !absWorse(h[s], h[n], ids) {
				break
			}
			h[n], h[s] = h[s], h[n]
			n = s
		}
		return h
	}
	h = append(h, c)
	for n := len(h) - 1; n > 0; {
		p := (n - 1) / 2
		if !absWorse(h[n], h[p], ids) {
			break
		}
		h[n], h[p] = h[p], h[n]
		n = p
	}
	return h
}

// sorted returns the kept weights, largest in absolute value first.
func (h absTopK) sorted(ids []string) []Neighbour {
	if len(h) == 0 {
		return nil
	}
	out := make([]Neighbour, len(h))
	for n, c := range h {
		out[n] = Neighbour{ItemID: ids[c.idx], Score: c.score}
	}
	slices.SortFunc(out, func(a, b Neighbour) int {
		return cmp.Or(cmp.Compare(math.Abs(b.Score), math.Abs(a.Score)), cmp.Compare(a.ItemID, b.ItemID))
	})
	return out
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
