package eval

import (
	"runtime"
	"sync"

	"tailor/shared/recommendations"
)

// Recommender produces a top-k list for a test user. Implementations must
// be safe for concurrent use: Evaluate calls Recommend from several
// goroutines.
type Recommender interface {
	// Recommend returns at most k items for user, best first, none of them
	// in exclude, each with a positive score (no backfill).
	Recommend(user string, exclude map[string]bool, k int) []string
}

// Evaluate runs rec for every test user of split and averages the metrics
// at k. Items the user saw in training are excluded unless split.KeepSeen.
func Evaluate(split Split, rec Recommender, k int) Metrics {
	type result struct {
		p, r, n, ap, hit float64
		list             []string
	}
	results := make([]result, len(split.Users))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < len(split.Users); n += workers {
				u := split.Users[n]
				var exclude map[string]bool
				if !split.KeepSeen {
					exclude = split.Seen[u]
				}
				list := rec.Recommend(u, exclude, k)
				if len(list) > k {
					list = list[:k]
				}
				res := result{list: list}
				res.p, res.r, res.n, res.ap, res.hit = UserMetrics(list, split.Relevant[u], k)
				results[n] = res
			}
		}()
	}
	wg.Wait()
	var m Metrics
	recommended := map[string]bool{}
	for _, res := range results {
		m.Precision += res.p
		m.Recall += res.r
		m.NDCG += res.n
		m.MAP += res.ap
		m.HitRate += res.hit
		for _, id := range res.list {
			recommended[id] = true
		}
	}
	m.Users = len(results)
	if m.Users > 0 {
		f := float64(m.Users)
		m.Precision /= f
		m.Recall /= f
		m.NDCG /= f
		m.MAP /= f
		m.HitRate /= f
	}
	if n := trainingItems(split.Train); n > 0 {
		m.Coverage = float64(len(recommended)) / float64(n)
	}
	return m
}

func trainingItems(train []recommendations.Interaction) int {
	items := map[string]bool{}
	for _, in := range train {
		items[in.ItemID] = true
	}
	return len(items)
}
