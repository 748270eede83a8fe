package recommendations

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// easeData is a small purchase matrix (binary, no decay): 8 customers, 5
// items, with item e bought by no one who bought a.
func easeData() ([]Interaction, [][]float64, []string) {
	items := []string{"a", "b", "c", "d", "e"}
	x := [][]float64{
		{1, 1, 0, 0, 0},
		{1, 1, 1, 0, 0},
		{1, 0, 1, 0, 0},
		{0, 1, 1, 1, 1},
		{0, 0, 1, 1, 1},
		{1, 1, 0, 1, 0},
		{0, 0, 0, 1, 1},
		{1, 0, 1, 0, 0},
	}
	var data []Interaction
	for c, row := range x {
		for i, v := range row {
			if v != 0 {
				data = append(data, buy(fmt.Sprintf("c%d", c), items[i], 1))
			}
		}
	}
	return data, x, items
}

// ridgeWeights computes EASE's B independently of the closed form: column
// j of B is the ridge regression of item j's column on the other items'
// columns, b = (X₋ⱼᵀX₋ⱼ + λI)⁻¹ X₋ⱼᵀ xⱼ, solved with a general solver.
func ridgeWeights(x [][]float64, lambda float64) [][]float64 {
	n, m := len(x), len(x[0])
	b := make([][]float64, m)
	for i := range b {
		b[i] = make([]float64, m)
	}
	for j := range m {
		others := make([]int, 0, m-1)
		for i := range m {
			if i != j {
				others = append(others, i)
			}
		}
		xo := mat.NewDense(n, m-1, nil)
		y := mat.NewVecDense(n, nil)
		for r := range n {
			for k, i := range others {
				xo.Set(r, k, x[r][i])
			}
			y.SetVec(r, x[r][j])
		}
		var a mat.Dense
		a.Mul(xo.T(), xo)
		for k := range m - 1 {
			a.Set(k, k, a.At(k, k)+lambda)
		}
		var rhs mat.VecDense
		rhs.MulVec(xo.T(), y)
		var sol mat.VecDense
		if err := sol.SolveVec(&a, &rhs); err != nil {
			panic(err)
		}
		for k, i := range others {
			b[i][j] = sol.AtVec(k)
		}
	}
	return b
}

func TestEASEMatchesRidgeRegression(t *testing.T) {
	data, x, items := easeData()
	for _, lambda := range []float64{0.5, 2, 10} {
		cfg := plainConfig(Jaccard, Binary)
		cfg.EASE = EASEConfig{Head: 5, Lambda: lambda}
		m, err := Train(data, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := ridgeWeights(x, lambda)
		var negatives int
		for i, from := range items {
			if len(m.Items[from].Neighbours) != 4 {
				t.Fatalf("λ %v: %s has %d weights, want the 4 other items", lambda, from, len(m.Items[from].Neighbours))
			}
			for j, to := range items {
				if i == j {
					continue
				}
				got := score(t, m, from, to)
				if math.Abs(got-want[i][j]) > 1e-9 {
					t.Errorf("λ %v: B[%s][%s] = %.12f, ridge regression gives %.12f", lambda, from, to, got, want[i][j])
				}
				if got < 0 {
					negatives++
				}
			}
		}
		if negatives == 0 {
			t.Errorf("λ %v: no negative weight; the data has items never bought together", lambda)
		}
	}
}

func TestEASEKeepsLargestAbsoluteWeights(t *testing.T) {
	data, x, items := easeData()
	cfg := plainConfig(Jaccard, Binary)
	cfg.Neighbours = 2
	cfg.EASE = EASEConfig{Head: 5, Lambda: 2}
	m, err := Train(data, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := ridgeWeights(x, 2)
	for i, from := range items {
		var all []Neighbour
		for j, to := range items {
			if i != j {
				all = append(all, Neighbour{ItemID: to, Score: want[i][j]})
			}
		}
		slices.SortFunc(all, func(a, b Neighbour) int {
			if d := math.Abs(b.Score) - math.Abs(a.Score); d != 0 {
				if d > 0 {
					return 1
				}
				return -1
			}
			return 0
		})
		got := m.Items[from].Neighbours
		if len(got) != 2 || got[0].ItemID != all[0].ItemID || got[1].ItemID != all[1].ItemID {
			t.Errorf("%s keeps %v; want the two largest in absolute value of %v", from, got, all)
		}
	}
}

func TestEASEHeadAndTail(t *testing.T) {
	data, _, _ := easeData()
	// f is bought by two customers with c: a tail item beyond a head of 4.
	data = append(data, buy("c3", "f", 1), buy("c4", "f", 1))
	cfg := plainConfig(Jaccard, Binary)
	cfg.EASE = EASEConfig{Head: 4, Lambda: 2}
	m, err := Train(data, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Customers per item: a 5, c 5, b 4, d 4, e 3, f 2 → head a c b d.
	if m.Head != 4 || m.TailScale <= 0 {
		t.Fatalf("head %d, tail scale %v", m.Head, m.TailScale)
	}
	plain, err := Train(data, nil, plainConfig(Jaccard, Binary))
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{"e", "f"} {
		got, want := m.Items[tail].Neighbours, plain.Items[tail].Neighbours
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s: %v, want the co-occurrence list %v", tail, got, want)
		}
		for n := range got {
			if got[n].ItemID != want[n].ItemID || math.Abs(got[n].Score-want[n].Score*m.TailScale) > 1e-12 {
				t.Errorf("%s: %v, want %v × %v", tail, got, want, m.TailScale)
			}
		}
	}
	// A head item's list holds head items only.
	for _, nb := range m.Items["a"].Neighbours {
		if nb.ItemID == "e" || nb.ItemID == "f" {
			t.Errorf("head item a lists tail item %s", nb.ItemID)
		}
	}
	cfg.EASE.Lambda = 0
	if _, err := Train(data, nil, cfg); err == nil {
		t.Error("λ = 0 trained; want an error")
	}
}
