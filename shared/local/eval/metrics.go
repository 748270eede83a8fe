package eval

import "tailor/shared/recommendations"

// Metrics are averages over test users of top-k ranking metrics with binary
// relevance, plus catalogue coverage: the same measures as the nightly
// training's own evaluation.
type Metrics = recommendations.Metrics

// UserMetrics scores one ranked list against one user's relevant set (see
// recommendations.UserMetrics).
func UserMetrics(list []string, relevant map[string]bool, k int) (precision, recall, ndcg, ap, hit float64) {
	return recommendations.UserMetrics(list, relevant, k)
}
