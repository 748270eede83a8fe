package segments

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// blobs returns n points around each centre, with unit-scale noise.
func blobs(centres [][]float64, n int, spread float64, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out [][]float64
	for i := 0; i < n; i++ {
		for _, c := range centres {
			p := make([]float64, len(c))
			for j := range c {
				p[j] = c[j] + spread*rng.NormFloat64()
			}
			out = append(out, p)
		}
	}
	return out
}

func TestKMeansFindsBlobs(t *testing.T) {
	centres := [][]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}}
	points := blobs(centres, 300, 0.5, 7)
	tests := []struct {
		name  string
		opts  KMeansOptions
		wantK int
	}{
		{"fixed k", KMeansOptions{K: 4, Seed: 1}, 4},
		{"k by silhouette", KMeansOptions{KMin: 2, KMax: 7, Seed: 1, SilhouetteSample: 500}, 4},
	}
	for _, tt := range tests {
		c, scores, err := Cluster(points, tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.K != tt.wantK {
			t.Errorf("%s: k = %d (scores %+v), want %d", tt.name, c.K, scores, tt.wantK)
			continue
		}
		for _, want := range centres {
			best := math.Inf(1)
			for _, got := range c.Centroids {
				best = math.Min(best, math.Sqrt(dist2(want, got)))
			}
			if best > 0.2 {
				t.Errorf("%s: no centroid near %v (nearest %.3f away)", tt.name, want, best)
			}
		}
		for _, size := range c.Sizes {
			if size != 300 {
				t.Errorf("%s: sizes %v, want 300 each", tt.name, c.Sizes)
				break
			}
		}
		if c.Silhouette < 0.8 {
			t.Errorf("%s: silhouette %.3f for well separated blobs", tt.name, c.Silhouette)
		}
	}
}

func TestKMeansIsReproducible(t *testing.T) {
	points := blobs([][]float64{{0, 0}, {3, 1}, {1, 4}}, 200, 1.5, 3)
	a, err := KMeans(points, 3, KMeansOptions{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	b, err := KMeans(points, 3, KMeansOptions{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Centroids {
		for j := range a.Centroids[i] {
			if a.Centroids[i][j] != b.Centroids[i][j] {
				t.Fatalf("centroids differ between runs: %v vs %v", a.Centroids, b.Centroids)
			}
		}
	}
}

// TestPartialsMergeToOneStep checks the fan-out protocol: workers' partial
// sums merged by a coordinator give the centroids of one pass over all
// points.
func TestPartialsMergeToOneStep(t *testing.T) {
	points := blobs([][]float64{{0, 0}, {5, 5}}, 100, 1, 9)
	centroids := [][]float64{{1, 1}, {4, 4}}
	whole := NewPartial(2, 2)
	whole.Assign(points, centroids, nil)
	merged := NewPartial(2, 2)
	for lo := 0; lo < len(points); lo += 37 {
		part := NewPartial(2, 2)
		part.Assign(points[lo:min(lo+37, len(points))], centroids, nil)
		merged.Merge(&part)
	}
	a, b := whole.Centroids(centroids), merged.Centroids(centroids)
	for i := range a {
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-12 {
				t.Errorf("merged centroid %v, whole %v", b, a)
			}
		}
	}
	if whole.Counts[0]+whole.Counts[1] != int64(len(points)) || math.Abs(whole.Inertia-merged.Inertia) > 1e-9 {
		t.Errorf("counts %v, inertia %v vs %v", whole.Counts, whole.Inertia, merged.Inertia)
	}
}

func TestMomentsMerge(t *testing.T) {
	points := blobs([][]float64{{1, 100}}, 1000, 3, 5)
	var whole, a, b Moments
	for i, p := range points {
		whole.Add(p)
		if i < 300 {
			a.Add(p)
		} else {
			b.Add(p)
		}
	}
	a.Merge(&b)
	ws, as := whole.Std(), a.Std()
	for j := range ws {
		if math.Abs(whole.Mean[j]-a.Mean[j]) > 1e-9 || math.Abs(ws[j]-as[j]) > 1e-9 {
			t.Errorf("feature %d: merged mean %v std %v, whole %v %v", j, a.Mean[j], as[j], whole.Mean[j], ws[j])
		}
	}
	if math.Abs(ws[0]-3) > 0.2 {
		t.Errorf("std %v, want about 3", ws[0])
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		centroid []float64
		want     string
	}{
		{[]float64{-1.2, 1.5, 0.9}, "recent, frequent, high spend"},
		{[]float64{1.1, -0.7, -0.6}, "lapsed, one-off, low spend"},
		{[]float64{0.1, 0.2, -0.3}, "moderately recent, occasional, mid spend"},
		{[]float64{0, 0, 0, 0.8}, "moderately recent, occasional, mid spend, high feature 3"},
	}
	for _, tt := range tests {
		if got := Describe(tt.centroid, RFMFeatureNames); got != tt.want {
			t.Errorf("Describe(%v) = %q, want %q", tt.centroid, got, tt.want)
		}
	}
	if got := Describe([]float64{-2}, []Feature{{Name: "web share"}}); !strings.Contains(got, "low web share") {
		t.Errorf("unnamed words: %q", got)
	}
}
