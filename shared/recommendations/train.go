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
	"time"
)

// Measure is the item-to-item similarity measure. All three are computed on
// the customer × item weight matrix W (w ≥ 0) built from the histories.
type Measure int

// Similarity measures.
const (
	// Cosine: Σc w_ci·w_cj / (‖w_i‖·‖w_j‖).
	Cosine Measure = iota
	// Jaccard (weighted, Ruzicka): Σc min(w_ci,w_cj) / Σc max(w_ci,w_cj);
	// with 0/1 weights it is |both| / |either|.
	Jaccard
	// Lift: Σc min(w_ci,w_cj) · N / (Σc w_ci · Σc w_cj), N the number of
	// customers; with 0/1 weights it is P(i,j) / (P(i)·P(j)).
	Lift
)

// String names the measure.
func (m Measure) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Jaccard:
		return "jaccard"
	case Lift:
		return "lift"
	}
	return fmt.Sprintf("Measure(%d)", int(m))
}

// Transform maps a customer's summed, decayed weight for an item to the
// matrix entry used by the similarity measures.
type Transform int

// Weight transforms.
const (
	// Linear keeps the summed weight: ten purchases count ten times.
	Linear Transform = iota
	// Log1p dampens repeats: w = ln(1 + sum).
	Log1p
	// Binary keeps only whether the sum is positive.
	Binary
)

// TrainConfig controls training. DefaultTrainConfig gives the settings
// chosen by offline evaluation (docs/evaluation.md).
type TrainConfig struct {
	// AsOf is the training time: decay ages and popularity windows are
	// measured back from it, and later events are ignored.
	AsOf time.Time
	// Neighbours is K, the length of each item's neighbour list.
	Neighbours int
	Measure    Measure
	// Shrinkage λ multiplies every similarity by n/(n+λ), n the number of
	// customers who have both items, so pairs seen together once or twice
	// cannot outrank well-supported pairs. 0 disables it.
	Shrinkage float64
	// HalfLife is the age at which an event's weight halves; 0 disables decay.
	HalfLife time.Duration
	// EventWeights weighs each event type; types absent from the map count
	// zero. A negative weight (refund) takes back earlier positive weight.
	EventWeights map[EventType]float64
	Transform    Transform
	// MaxHistory caps each customer's history to their most recently
	// touched items, bounding the pair count of heavy (often wholesale)
	// customers: work is Σ min(|history|, MaxHistory)².
	MaxHistory int
	// PopularWindows are the popularity windows in days before AsOf.
	PopularWindows []int
	// PopularLimit is the length of each popularity list.
	PopularLimit int
	// RepeatPrior is the pseudo-count that shrinks an item's repeat rate
	// toward the catalogue-wide rate.
	RepeatPrior float64
	// EASE gives the most interacted items linear-model weights in place
	// of co-occurrence neighbours.
	EASE EASEConfig
}

// DefaultHead is how many items get linear-model weights by default:
// 4,096 items take about 400 MB and 20 s to solve on two cores, inside one
// train invocation with room to spare (docs/benchmarks.md).
const DefaultHead = 4096

// DefaultEventWeights are the per-type weights used when none are given:
// a purchase says more than a cart, a cart more than a view, and a refund
// cancels a purchase.
func DefaultEventWeights() map[EventType]float64 {
	return map[EventType]float64{View: 1, AddToCart: 3, Purchase: 5, Refund: -5}
}

// DefaultTrainConfig returns the tuned training settings for time asOf.
func DefaultTrainConfig(asOf time.Time) TrainConfig {
	return TrainConfig{
		AsOf:           asOf,
		Neighbours:     50,
		Measure:        Jaccard,
		Shrinkage:      3,
		HalfLife:       90 * 24 * time.Hour,
		EventWeights:   DefaultEventWeights(),
		Transform:      Log1p,
		MaxHistory:     300,
		EASE:           EASEConfig{Head: DefaultHead, Lambda: 500},
		PopularWindows: []int{1, 7, 30, 365},
		PopularLimit:   200,
		RepeatPrior:    10,
	}
}

// Model is the result of training.
type Model struct {
	AsOf time.Time
	// Items holds one entry per item with positive weight in the training
	// data, keyed by item id.
	Items map[string]ItemModel
	// Popular holds the popularity lists, one per window and top-level
	// category, plus one per window for the whole catalogue (Category "").
	Popular []PopularList
	// RepeatRate is the catalogue-wide repeat rate the item rates shrink to.
	RepeatRate float64
	// Head is how many items have EASE weights; the others keep
	// co-occurrence neighbours multiplied by TailScale, which puts them on
	// the scale of the EASE weights (see blendScale).
	Head      int
	TailScale float64
}

// blendScale is the factor that puts co-occurrence scores on the scale of
// EASE weights: the median, over head items that have both, of the ratio
// of the largest EASE weight to the largest co-occurrence score. A
// history mixing head and tail items then adds comparable amounts. 1 when
// no head item has both.
func blendScale(head []int32, ease [][]Neighbour, cooc [][]Neighbour) float64 {
	var ratios []float64
	for n, i := range head {
		if len(ease[n]) == 0 || len(cooc[i]) == 0 || cooc[i][0].Score <= 0 {
			continue
		}
		var top float64
		for _, nb := range ease[n] {
			top = max(top, nb.Score)
		}
		if top > 0 {
			ratios = append(ratios, top/cooc[i][0].Score)
		}
	}
	if len(ratios) == 0 {
		return 1
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}

// ErrNoData is returned when training finds no usable interactions.
var ErrNoData = errors.New("recommendations: no interactions with positive weight")

// Train builds neighbour lists, repeat rates and popularity lists from the
// interactions. attrs supplies item categories for per-category popularity;
// it may be nil. Interactions after cfg.AsOf are ignored.
func Train(interactions []Interaction, attrs map[string]Item, cfg TrainConfig) (*Model, error) {
	if cfg.Neighbours <= 0 {
		return nil, fmt.Errorf("recommendations: train: Neighbours must be positive, got %d", cfg.Neighbours)
	}
	if cfg.Shrinkage < 0 || cfg.HalfLife < 0 || cfg.MaxHistory < 0 {
		return nil, errors.New("recommendations: train: Shrinkage, HalfLife and MaxHistory must not be negative")
	}
	m := buildMatrix(interactions, cfg)
	if len(m.itemIDs) == 0 {
		return nil, ErrNoData
	}
	neighbours := m.neighbours(cfg)
	model := &Model{AsOf: cfg.AsOf, Items: make(map[string]ItemModel, len(m.itemIDs))}
	if cfg.EASE.Head > 0 {
		head := m.headItems(cfg.EASE.Head)
		weights, err := m.easeWeights(head, cfg.EASE.Lambda, cfg.Neighbours)
		if err != nil {
			return nil, err
		}
		model.Head, model.TailScale = len(head), blendScale(head, weights, neighbours)
		for n, i := range head {
			neighbours[i] = weights[n]
		}
		inHead := make([]bool, len(m.itemIDs))
		for _, i := range head {
			inHead[i] = true
		}
		for i, l := range neighbours {
			if !inHead[i] {
				for n := range l {
					l[n].Score *= model.TailScale
				}
			}
		}
	}
	var buyers, repeaters float64
	for i := range m.itemIDs {
		buyers += float64(m.buyers[i])
		repeaters += float64(m.repeaters[i])
	}
	if buyers > 0 {
		model.RepeatRate = repeaters / buyers
	}
	for i, id := range m.itemIDs {
		if m.count[i] == 0 {
			continue
		}
		rate := (float64(m.repeaters[i]) + cfg.RepeatPrior*model.RepeatRate) / (float64(m.buyers[i]) + cfg.RepeatPrior)
		if m.buyers[i] == 0 && cfg.RepeatPrior == 0 {
			rate = 0
		}
		model.Items[id] = ItemModel{ItemID: id, Neighbours: neighbours[i], RepeatRate: rate, Customers: int(m.count[i])}
	}
	model.Popular = Popularity(interactions, attrs, cfg.AsOf, cfg.PopularWindows, cfg.PopularLimit, cfg.EventWeights)
	return model, nil
}

// decay returns the weight factor of an event of the given age.
func decay(age, halfLife time.Duration) float64 {
	if halfLife <= 0 || age <= 0 {
		return 1
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

// entry is one non-zero cell of the sparse weight matrix.
type entry struct {
	idx int32
	w   float64
}

// matrix is the customer × item weight matrix in both row (customer) and
// column (item) compressed form, with per-item totals.
type matrix struct {
	itemIDs   []string
	customers int
	byCust    [][]entry // customer -> items, ascending item index
	byItem    [][]entry // item -> customers
	sq, mass  []float64 // Σ w², Σ w per item
	count     []int32   // customers per item
	buyers    []int32   // customers who bought the item
	repeaters []int32   // customers who bought it on two or more days
}

func buildMatrix(interactions []Interaction, cfg TrainConfig) *matrix {
	itemIdx := map[string]int32{}
	custIdx := map[string]int32{}
	var itemIDs []string
	custOf := make([]int32, len(interactions))
	itemOf := make([]int32, len(interactions))
	var perCust []int32
	for k, in := range interactions {
		custOf[k] = -1
		if in.CustomerID == "" || in.ItemID == "" || in.Time.After(cfg.AsOf) || cfg.EventWeights[in.Type] == 0 {
			continue
		}
		c, ok := custIdx[in.CustomerID]
		if !ok {
			c = int32(len(perCust))
			custIdx[in.CustomerID] = c
			perCust = append(perCust, 0)
		}
		i, ok := itemIdx[in.ItemID]
		if !ok {
			i = int32(len(itemIDs))
			itemIdx[in.ItemID] = i
			itemIDs = append(itemIDs, in.ItemID)
		}
		custOf[k], itemOf[k] = c, i
		perCust[c]++
	}
	// Group event indices by customer (counting sort), then order each
	// customer's events by time so purchase days can be counted in one pass.
	start := make([]int32, len(perCust)+1)
	for c, n := range perCust {
		start[c+1] = start[c] + n
	}
	order := make([]int32, start[len(perCust)])
	fill := slices.Clone(start[:len(perCust)])
	for k, c := range custOf {
		if c >= 0 {
			order[fill[c]] = int32(k)
			fill[c]++
		}
	}
	nItems := len(itemIDs)
	m := &matrix{
		itemIDs: itemIDs, customers: len(perCust),
		byCust: make([][]entry, len(perCust)), byItem: make([][]entry, nItems),
		sq: make([]float64, nItems), mass: make([]float64, nItems), count: make([]int32, nItems),
		buyers: make([]int32, nItems), repeaters: make([]int32, nItems),
	}
	sum := make([]float64, nItems)
	last := make([]int64, nItems)
	days := make([]int32, nItems)
	lastDay := make([]int64, nItems)
	var touched []int32
	type recent struct {
		idx  int32
		last int64
	}
	var keep []recent
	for c := range perCust {
		evs := order[start[c]:start[c+1]]
		slices.SortFunc(evs, func(a, b int32) int { return interactions[a].Time.Compare(interactions[b].Time) })
		touched = touched[:0]
		for _, k := range evs {
			in := &interactions[k]
			i := itemOf[k]
			if last[i] == 0 {
				touched = append(touched, i)
				lastDay[i] = math.MinInt64
			}
			mult := in.Weight
			if mult == 0 {
				mult = 1
			}
			sum[i] += cfg.EventWeights[in.Type] * mult * decay(cfg.AsOf.Sub(in.Time), cfg.HalfLife)
			last[i] = in.Time.UnixNano() | 1 // never 0, which marks "untouched"
			if in.Type == Purchase {
				day := in.Time.Unix() / 86400
				if day != lastDay[i] {
					days[i] += occasions(in)
					lastDay[i] = day
				}
			}
		}
		keep = keep[:0]
		for _, i := range touched {
			if days[i] > 0 {
				m.buyers[i]++
				if days[i] > 1 {
					m.repeaters[i]++
				}
			}
			if sum[i] > 1e-12 {
				keep = append(keep, recent{i, last[i]})
			}
		}
		if cfg.MaxHistory > 0 && len(keep) > cfg.MaxHistory {
			slices.SortFunc(keep, func(a, b recent) int { return cmp.Or(cmp.Compare(b.last, a.last), cmp.Compare(a.idx, b.idx)) })
			keep = keep[:cfg.MaxHistory]
		}
		row := make([]entry, len(keep))
		for n, r := range keep {
			row[n] = entry{r.idx, transform(sum[r.idx], cfg.Transform)}
		}
		slices.SortFunc(row, func(a, b entry) int { return cmp.Compare(a.idx, b.idx) })
		m.byCust[c] = row
		for _, e := range row {
			m.byItem[e.idx] = append(m.byItem[e.idx], entry{int32(c), e.w})
			m.sq[e.idx] += e.w * e.w
			m.mass[e.idx] += e.w
			m.count[e.idx]++
		}
		for _, i := range touched {
			sum[i], last[i], days[i] = 0, 0, 0
		}
	}
	return m
}

// occasions is how many purchase occasions one purchase interaction
// stands for: a purchase summary (HistoryInteractions) carries its count
// as its weight; a single event is one.
func occasions(in *Interaction) int32 {
	if in.Weight >= 2 {
		return int32(in.Weight)
	}
	return 1
}

func transform(w float64, t Transform) float64 {
	switch t {
	case Log1p:
		return math.Log1p(w)
	case Binary:
		return 1
	}
	return w
}

// neighbours computes every item's top-K list. Items are split among
// GOMAXPROCS workers; each owns dense accumulators over the item space and
// resets only the cells it touched, so the cost is proportional to the
// co-occurrences, not to items².
func (m *matrix) neighbours(cfg TrainConfig) [][]Neighbour {
	n := len(m.itemIDs)
	out := make([][]Neighbour, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dot := make([]float64, n)
			mn := make([]float64, n)
			cnt := make([]int32, n)
			var touched []int32
			top := newTopK(cfg.Neighbours, m.itemIDs, byScore)
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				touched = touched[:0]
				for _, ce := range m.byItem[i] {
					wi := ce.w
					for _, ie := range m.byCust[ce.idx] {
						j := ie.idx
						if j == int32(i) {
							continue
						}
						if cnt[j] == 0 {
							touched = append(touched, j)
						}
						cnt[j]++
						dot[j] += wi * ie.w
						mn[j] += min(wi, ie.w)
					}
				}
				top.reset()
				for _, j := range touched {
					s := m.similarity(int32(i), j, dot[j], mn[j], cfg.Measure)
					if cfg.Shrinkage > 0 {
						s *= float64(cnt[j]) / (float64(cnt[j]) + cfg.Shrinkage)
					}
					if s > 0 {
						top.push(cell{j, s})
					}
					dot[j], mn[j], cnt[j] = 0, 0, 0
				}
				out[i] = top.sorted()
			}
		}()
	}
	wg.Wait()
	return out
}

func (m *matrix) similarity(i, j int32, dot, mn float64, measure Measure) float64 {
	switch measure {
	case Jaccard:
		union := m.mass[i] + m.mass[j] - mn
		if union <= 0 {
			return 0
		}
		return mn / union
	case Lift:
		if m.mass[i] == 0 || m.mass[j] == 0 {
			return 0
		}
		return mn * float64(m.customers) / (m.mass[i] * m.mass[j])
	}
	if m.sq[i] == 0 || m.sq[j] == 0 {
		return 0
	}
	return dot / math.Sqrt(m.sq[i]*m.sq[j])
}

// topK keeps the k best cells by rank: a bounded min-heap whose root is
// the worst kept. The rank (by score, or by absolute score for signed
// weights) breaks ties on item id, so that lists are deterministic.
type topK struct {
	cells []cell
	k     int
	ids   []string
	// mag is the cell's magnitude for ranking: its score, or its absolute
	// value.
	mag func(float64) float64
}

// cell is a heap entry: an item index and its score.
type cell struct {
	idx   int32
	score float64
}

func newTopK(k int, ids []string, mag func(float64) float64) *topK {
	return &topK{cells: make([]cell, 0, k+1), k: k, ids: ids, mag: mag}
}

func byScore(s float64) float64 { return s }

// worse reports whether a ranks below b.
func (h *topK) worse(a, b cell) bool {
	if x, y := h.mag(a.score), h.mag(b.score); x != y {
		return x < y
	}
	return h.ids[a.idx] > h.ids[b.idx]
}

func (h *topK) reset() { h.cells = h.cells[:0] }

func (h *topK) push(c cell) {
	if h.k <= 0 {
		return
	}
	if len(h.cells) == h.k {
		if !h.worse(h.cells[0], c) {
			return
		}
		h.cells[0] = c
		h.down(0)
		return
	}
	h.cells = append(h.cells, c)
	for n := len(h.cells) - 1; n > 0; {
		p := (n - 1) / 2
		if !h.worse(h.cells[n], h.cells[p]) {
			break
		}
		h.cells[n], h.cells[p] = h.cells[p], h.cells[n]
		n = p
	}
}

func (h *topK) down(n int) {
	for {
		l := 2*n + 1
		if l >= len(h.cells) {
			return
		}
		s := l
		if r := l + 1; r < len(h.cells) && h.worse(h.cells[r], h.cells[l]) {
			s = r
		}
		if !h.worse(h.cells[s], h.cells[n]) {
			return
		}
		h.cells[n], h.cells[s] = h.cells[s], h.cells[n]
		n = s
	}
}

// sorted returns the kept cells as neighbours, best first.
func (h *topK) sorted() []Neighbour {
	if len(h.cells) == 0 {
		return nil
	}
	order := slices.Clone(h.cells)
	slices.SortFunc(order, func(a, b cell) int {
		if h.worse(b, a) {
			return -1
		}
		if h.worse(a, b) {
			return 1
		}
		return 0
	})
	out := make([]Neighbour, len(order))
	for n, c := range order {
		out[n] = Neighbour{ItemID: h.ids[c.idx], Score: c.score}
	}
	return out
}
