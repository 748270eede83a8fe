package segments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
)

// Moments are the running count, mean and sum of squared deviations of
// each feature (Welford's method, merged with Chan et al.'s formula), so
// workers can standardise features against the global mean and standard
// deviation without a second pass over their data.
// The zero value is empty and ready to use.
type Moments struct {
	N    float64
	Mean []float64
	M2   []float64
}

// Add records one point.
func (m *Moments) Add(x []float64) {
	if m.Mean == nil {
		m.Mean = make([]float64, len(x))
		m.M2 = make([]float64, len(x))
	}
	m.N++
	for j, v := range x {
		d := v - m.Mean[j]
		m.Mean[j] += d / m.N
		m.M2[j] += d * (v - m.Mean[j])
	}
}

// Merge combines o into m.
func (m *Moments) Merge(o *Moments) {
	if o.N == 0 {
		return
	}
	if m.N == 0 {
		m.N = o.N
		m.Mean = append([]float64(nil), o.Mean...)
		m.M2 = append([]float64(nil), o.M2...)
		return
	}
	n := m.N + o.N
	for j := range m.Mean {
		d := o.Mean[j] - m.Mean[j]
		m.Mean[j] += d * o.N / n
		m.M2[j] += o.M2[j] + d*d*m.N*o.N/n
	}
	m.N = n
}

// Std returns the population standard deviation of each feature; a
// constant feature gets 1 so standardising it gives zeros, not NaN.
func (m *Moments) Std() []float64 {
	out := make([]float64, len(m.M2))
	for j, v := range m.M2 {
		out[j] = 1
		if m.N > 0 && v > 0 {
			out[j] = math.Sqrt(v / m.N)
		}
	}
	return out
}

// Standardize rewrites x in place as (x - mean) / std.
func (m *Moments) Standardize(x []float64, std []float64) {
	for j := range x {
		x[j] = (x[j] - m.Mean[j]) / std[j]
	}
}

// RFMFeatures returns the clustering features of a customer before
// standardisation: log1p of recency days, frequency and monetary (in minor
// units), then any extra features (category or channel shares, say) as
// given. The log tames the long right tails of all three, so a handful of
// big spenders do not become clusters of their own.
func RFMFeatures(in RFMInput, extra ...float64) []float64 {
	out := make([]float64, 0, 3+len(extra))
	out = append(out, math.Log1p(float64(in.RecencyDays)), math.Log1p(float64(in.Frequency)), math.Log1p(float64(in.Monetary)))
	return append(out, extra...)
}

// Feature names a clustering feature and the words that describe a
// centroid far above, near, or far below the population mean.
type Feature struct {
	Name           string
	High, Mid, Low string
}

// RFMFeatureNames describes the three features of RFMFeatures. Recency is
// days since the last purchase, so a high value reads "lapsed".
var RFMFeatureNames = []Feature{
	{Name: "recency", High: "lapsed", Mid: "moderately recent", Low: "recent"},
	{Name: "frequency", High: "frequent", Mid: "occasional", Low: "one-off"},
	{Name: "monetary", High: "high spend", Mid: "mid spend", Low: "low spend"},
}

// DescribeThreshold is how far from the population mean, in standard
// deviations, a centroid must sit for a feature to read high or low: half
// a standard deviation is a difference a marketer would notice.
const DescribeThreshold = 0.5

// Describe puts a standardized centroid into words, feature by feature,
// relative to the population mean: "recent, frequent, high spend".
func Describe(centroid []float64, features []Feature) string {
	words := make([]string, 0, len(centroid))
	for j, z := range centroid {
		f := Feature{Name: fmt.Sprintf("feature %d", j)}
		if j < len(features) {
			f = features[j]
		}
		w := f.Mid
		switch {
		case z >= DescribeThreshold:
			w = f.High
		case z <= -DescribeThreshold:
			w = f.Low
		}
		if w == "" {
			w = map[bool]string{true: "high ", false: "low "}[z > 0] + f.Name
			if math.Abs(z) < DescribeThreshold {
				w = "average " + f.Name
			}
		}
		words = append(words, w)
	}
	return strings.Join(words, ", ")
}

// Partial is one worker's share of a Lloyd iteration: per cluster, the sum
// of the points assigned to it and their count, plus the worker's share of
// the inertia. A coordinator merges partials and divides to get the new
// centroids.
type Partial struct {
	Sums    [][]float64
	Counts  []int64
	Inertia float64
}

// NewPartial returns an empty partial for k clusters of dim features.
func NewPartial(k, dim int) Partial {
	p := Partial{Sums: make([][]float64, k), Counts: make([]int64, k)}
	for i := range p.Sums {
		p.Sums[i] = make([]float64, dim)
	}
	return p
}

// Assign assigns each point to its nearest centroid, writing the cluster
// into assign (which may be nil) and accumulating into p. It is the
// worker's half of an iteration.
func (p *Partial) Assign(points [][]float64, centroids [][]float64, assign []int) {
	for i, x := range points {
		c, d := Nearest(x, centroids)
		if assign != nil {
			assign[i] = c
		}
		p.Counts[c]++
		p.Inertia += d
		s := p.Sums[c]
		for j, v := range x {
			s[j] += v
		}
	}
}

// Merge adds o into p.
func (p *Partial) Merge(o *Partial) {
	for c := range p.Sums {
		p.Counts[c] += o.Counts[c]
		for j, v := range o.Sums[c] {
			p.Sums[c][j] += v
		}
	}
	p.Inertia += o.Inertia
}

// Centroids returns the new centroids: the mean of each cluster's points.
// A cluster that lost all its points keeps its previous centroid, so k
// stays fixed and the run stays deterministic.
func (p *Partial) Centroids(prev [][]float64) [][]float64 {
	out := make([][]float64, len(p.Sums))
	for c, s := range p.Sums {
		if p.Counts[c] == 0 {
			out[c] = append([]float64(nil), prev[c]...)
			continue
		}
		out[c] = make([]float64, len(s))
		for j, v := range s {
			out[c][j] = v / float64(p.Counts[c])
		}
	}
	return out
}

// Nearest returns the index of the centroid closest to x and the squared
// Euclidean distance to it; ties go to the lower index.
func Nearest(x []float64, centroids [][]float64) (int, float64) {
	best, bestD := 0, math.Inf(1)
	for c, m := range centroids {
		var d float64
		for j, v := range x {
			t := v - m[j]
			d += t * t
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

// KMeansOptions tunes k-means. The zero value is usable once K or
// KMin/KMax is set.
type KMeansOptions struct {
	// K fixes the number of clusters; when zero, K is chosen by the best
	// mean silhouette over KMin..KMax (ties to the smaller k).
	K, KMin, KMax int
	// Seed feeds k-means++ seeding and the silhouette sample, so a run is
	// reproducible.
	Seed uint64
	// MaxIterations caps Lloyd iterations; zero means 100.
	MaxIterations int
	// SilhouetteSample is how many points the silhouette is computed on;
	// zero means DefaultSilhouetteSample. The exact silhouette is O(n²).
	SilhouetteSample int
}

// DefaultSilhouetteSample is the silhouette sample size: 2,000 points give
// a mean silhouette to about ±0.01, at 4M distance evaluations per k.
const DefaultSilhouetteSample = 2000

// shards is how many pieces the points are split into for the concurrent
// assignment step. It is fixed, not GOMAXPROCS, so that the floating-point
// sums, and so the clusters, are the same on every machine.
const shards = 8

// Clustering is the result of k-means.
type Clustering struct {
	K          int         `json:"k"`
	Centroids  [][]float64 `json:"centroids"`
	Sizes      []int64     `json:"sizes"`
	Inertia    float64     `json:"inertia"`
	Silhouette float64     `json:"silhouette"`
	Iterations int         `json:"iterations"`
	// Assign is each point's cluster, parallel to the input.
	Assign []int `json:"-"`
}

// KScore is the silhouette of one candidate k.
type KScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
	Inertia    float64 `json:"inertia"`
}

// Cluster runs k-means on standardized points: fixed k, or k chosen by
// silhouette over a range, in which case the candidates' scores are
// returned too.
func Cluster(points [][]float64, opts KMeansOptions) (Clustering, []KScore, error) {
	kmin, kmax := opts.KMin, opts.KMax
	if opts.K > 0 {
		kmin, kmax = opts.K, opts.K
	}
	if kmin < 1 || kmax < kmin {
		return Clustering{}, nil, fmt.Errorf("%w: k range %d..%d", ErrInvalid, kmin, kmax)
	}
	if len(points) < kmax {
		return Clustering{}, nil, fmt.Errorf("%w: %d points for k = %d", ErrNoData, len(points), kmax)
	}
	sample := silhouetteSample(len(points), opts)
	var best Clustering
	var scores []KScore
	for k := kmin; k <= kmax; k++ {
		c, err := KMeans(points, k, opts)
		if err != nil {
			return Clustering{}, nil, err
		}
		c.Silhouette = silhouette(points, c.Assign, k, sample)
		scores = append(scores, KScore{K: k, Silhouette: c.Silhouette, Inertia: c.Inertia})
		if k == kmin || c.Silhouette > best.Silhouette {
			best = c
		}
	}
	return best, scores, nil
}

// KMeans runs k-means++ seeding then Lloyd iterations until fewer than one
// point in 10,000 changes cluster (none, below 10,000 points) or
// MaxIterations. Each iteration is the Partial protocol
// run over fixed shards in goroutines, exactly as a fanned-out job would.
func KMeans(points [][]float64, k int, opts KMeansOptions) (Clustering, error) {
	if k < 1 || len(points) < k {
		return Clustering{}, fmt.Errorf("%w: %d points for k = %d", ErrInvalid, len(points), k)
	}
	dim := len(points[0])
	for _, p := range points {
		if len(p) != dim {
			return Clustering{}, fmt.Errorf("%w: points of %d and %d features", ErrInvalid, dim, len(p))
		}
	}
	maxIter := opts.MaxIterations
	if maxIter == 0 {
		maxIter = 100
	}
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(k)))
	centroids := seedPlusPlus(points, k, rng)
	assign := make([]int, len(points))
	prev := make([]int, len(points))
	for i := range prev {
		prev[i] = -1
	}
	var total Partial
	iter := 0
	for iter < maxIter {
		iter++
		total = iterate(points, centroids, assign)
		changed := 0
		for i := range assign {
			if assign[i] != prev[i] {
				changed++
			}
		}
		// On large bases the last iterations move a handful of boundary
		// points and nothing a marketer would see: stop once fewer than one
		// point in 10,000 changes cluster.
		if changed*10000 <= len(points) {
			break
		}
		copy(prev, assign)
		centroids = total.Centroids(centroids)
	}
	return Clustering{
		K: k, Centroids: centroids, Sizes: total.Counts, Inertia: total.Inertia,
		Iterations: iter, Assign: assign,
	}, nil
}

// iterate runs one assignment step over fixed shards concurrently and
// merges the partials in shard order.
func iterate(points, centroids [][]float64, assign []int) Partial {
	k, dim := len(centroids), len(centroids[0])
	parts := make([]Partial, shards)
	var wg sync.WaitGroup
	for s := range shards {
		lo, hi := s*len(points)/shards, (s+1)*len(points)/shards
		parts[s] = NewPartial(k, dim)
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[s].Assign(points[lo:hi], centroids, assign[lo:hi])
		}()
	}
	wg.Wait()
	total := NewPartial(k, dim)
	for s := range parts {
		total.Merge(&parts[s])
	}
	return total
}

// seedPlusPlus picks k initial centroids by k-means++: each next centroid
// is a point drawn with probability proportional to its squared distance
// from the nearest centroid so far.
func seedPlusPlus(points [][]float64, k int, rng *rand.Rand) [][]float64 {
	centroids := [][]float64{append([]float64(nil), points[rng.IntN(len(points))]...)}
	d2 := make([]float64, len(points))
	for i, p := range points {
		_, d2[i] = Nearest(p, centroids)
	}
	for len(centroids) < k {
		var sum float64
		for _, d := range d2 {
			sum += d
		}
		pick := 0
		if sum > 0 {
			target := rng.Float64() * sum
			for i, d := range d2 {
				target -= d
				if target < 0 {
					pick = i
					break
				}
				pick = i
			}
		} else {
			pick = rng.IntN(len(points)) // all points coincide with a centroid
		}
		c := append([]float64(nil), points[pick]...)
		centroids = append(centroids, c)
		for i, p := range points {
			if d := dist2(p, c); d < d2[i] {
				d2[i] = d
			}
		}
	}
	return centroids
}

func dist2(a, b []float64) float64 {
	var d float64
	for j := range a {
		t := a[j] - b[j]
		d += t * t
	}
	return d
}

// silhouetteSample draws the indices the silhouette is computed on, the
// same for every k so candidates are compared on the same customers.
func silhouetteSample(n int, opts KMeansOptions) []int {
	size := opts.SilhouetteSample
	if size == 0 {
		size = DefaultSilhouetteSample
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n <= size {
		return idx
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5111))
	for i := 0; i < size; i++ { // partial Fisher-Yates
		j := i + rng.IntN(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:size]
}

// silhouette returns the mean silhouette of the sampled points, with
// distances to the other sampled points only. A point alone in its cluster
// (within the sample) scores 0, the usual convention.
func silhouette(points [][]float64, assign []int, k int, sample []int) float64 {
	if k < 2 {
		return 0
	}
	var total float64
	sums := make([]float64, k)
	counts := make([]int, k)
	for _, i := range sample {
		counts[assign[i]]++
	}
	for _, i := range sample {
		clear(sums)
		for _, j := range sample {
			if i != j {
				sums[assign[j]] += math.Sqrt(dist2(points[i], points[j]))
			}
		}
		own := assign[i]
		if counts[own] <= 1 {
			continue
		}
		a := sums[own] / float64(counts[own]-1)
		b := math.Inf(1)
		for c := range k {
			if c != own && counts[c] > 0 {
				b = math.Min(b, sums[c]/float64(counts[c]))
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		if m := math.Max(a, b); m > 0 {
			total += (b - a) / m
		}
	}
	return total / float64(len(sample))
}
