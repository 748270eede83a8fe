package eval

import "math"

// Metrics are averages over test users of top-k ranking metrics with binary
// relevance, plus catalogue coverage.
type Metrics struct {
	Precision float64 `json:"precision@10"`
	Recall    float64 `json:"recall@10"`
	NDCG      float64 `json:"ndcg@10"`
	MAP       float64 `json:"map@10"`
	HitRate   float64 `json:"hit_rate@10"`
	// Coverage is distinct recommended items / distinct training items.
	Coverage float64 `json:"coverage"`
	Users    int     `json:"users"`
}

// UserMetrics scores one ranked list against one user's relevant set:
//
//	precision = hits / k (a short list is not rewarded)
//	recall    = hits / |rel|
//	nDCG      = Σ_hits 1/log2(rank+1) / Σ_{r=1..min(|rel|,k)} 1/log2(r+1)
//	AP        = Σ_hits precision@rank / min(|rel|, k)
//	hit       = 1 if any of the first k items is relevant
//
// Only the first k items of list count.
func UserMetrics(list []string, relevant map[string]bool, k int) (precision, recall, ndcg, ap, hit float64) {
	if k <= 0 || len(relevant) == 0 {
		return 0, 0, 0, 0, 0
	}
	if len(list) > k {
		list = list[:k]
	}
	var hits int
	var dcg, sumPrec float64
	for n, id := range list {
		if !relevant[id] {
			continue
		}
		hits++
		rank := n + 1
		dcg += 1 / math.Log2(float64(rank)+1)
		sumPrec += float64(hits) / float64(rank)
	}
	ideal := min(len(relevant), k)
	var idcg float64
	for r := 1; r <= ideal; r++ {
		idcg += 1 / math.Log2(float64(r)+1)
	}
	precision = float64(hits) / float64(k)
	recall = float64(hits) / float64(len(relevant))
	ndcg = dcg / idcg
	ap = sumPrec / float64(ideal)
	if hits > 0 {
		hit = 1
	}
	return precision, recall, ndcg, ap, hit
}
