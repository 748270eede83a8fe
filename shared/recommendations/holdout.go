package recommendations

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Metrics are averages over test customers of top-k ranking metrics with
// binary relevance, plus catalogue coverage.
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

// Evaluation is the nightly offline check of the recommender: a model
// trained as of HoldoutDays before the run, on what the customer records
// say happened before then, ranks each customer's items; the items the
// customer bought since are the relevant ones. Models holds Tailor (the
// serving scorer, mixed mode) and the popularity baseline.
type Evaluation struct {
	HoldoutDays int       `json:"holdout_days"`
	Cutoff      time.Time `json:"cutoff"`
	// Customers are those with a purchase before the cutoff and one after
	// it: the ones evaluated.
	Customers int               `json:"customers"`
	K         int               `json:"k"`
	Models    []EvaluationModel `json:"models"`
}

// EvaluationModel is one model's metrics in an Evaluation.
type EvaluationModel struct {
	Model string `json:"model"`
	Metrics
}

// HoldoutHistory splits a customer's record-shaped history at cutoff: the
// history as the record would have held it then, and the items bought at
// or after it. A record keeps per item only the number of purchase
// occasions and the last one, so an item last bought after the cutoff
// counts one occasion fewer before it (and leaves the history when that
// was its only one), with its last purchase taken as just before the
// cutoff. Recent interactions at or after the cutoff are dropped.
func HoldoutHistory(h History, cutoff time.Time) (before History, bought map[string]bool) {
	before = History{CustomerID: h.CustomerID}
	for _, e := range h.Recent {
		if e.Time.Before(cutoff) {
			before.Recent = append(before.Recent, e)
		}
	}
	for _, p := range h.Purchases {
		if p.Last.Before(cutoff) {
			before.Purchases = append(before.Purchases, p)
			continue
		}
		if bought == nil {
			bought = map[string]bool{}
		}
		bought[p.ItemID] = true
		if p.Count > 1 {
			before.Purchases = append(before.Purchases, PurchaseSummary{ItemID: p.ItemID, Count: p.Count - 1, Last: cutoff.Add(-time.Second)})
		}
	}
	return before, bought
}

// EvaluateHoldout runs the Evaluation of histories as of asOf with a
// holdout of days: it trains with cfg (AsOf moved to the cutoff) on the
// histories before the cutoff, and ranks the top k for every customer who
// bought before and after it, with scorer in mixed mode and by
// popularity. Items are the catalogue. It returns ErrNoData when no
// customer qualifies.
func EvaluateHoldout(histories []History, items map[string]Item, cfg TrainConfig, scorer Scorer, asOf time.Time, days, k int) (Evaluation, error) {
	cutoff := asOf.AddDate(0, 0, -days)
	ev := Evaluation{HoldoutDays: days, Cutoff: cutoff, K: k}
	train := make([]History, 0, len(histories))
	type test struct {
		h        History
		relevant map[string]bool
	}
	var tests []test
	for _, h := range histories {
		before, bought := HoldoutHistory(h, cutoff)
		train = append(train, before)
		if len(bought) > 0 && len(before.Purchases) > 0 {
			tests = append(tests, test{before, bought})
		}
	}
	if len(tests) == 0 {
		return ev, ErrNoData
	}
	slices.SortFunc(train, func(a, b History) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	cfg.AsOf = cutoff
	model, err := Train(HistoryInteractions(train), items, cfg)
	if err != nil {
		return ev, err
	}
	trainedItems := map[string]bool{}
	for _, in := range HistoryInteractions(train) {
		trainedItems[in.ItemID] = true
	}
	popular := FindPopular(model.Popular, 30, "")
	rankers := []struct {
		name string
		rank func(h History) []string
	}{
		{"tailor", func(h History) []string {
			in := Input{Now: cutoff, Recent: h.Recent, Purchases: h.Purchases, ItemModels: model.Items, Items: items, Popular: popular}
			var out []string
			for _, r := range scorer.Score(in, Options{Limit: k, Mode: Mixed}) {
				if !r.Backfill {
					out = append(out, r.ItemID)
				}
			}
			return out
		}},
		{"popularity", func(History) []string {
			out := make([]string, 0, k)
			for _, s := range popular[:min(k, len(popular))] {
				out = append(out, s.ItemID)
			}
			return out
		}},
	}
	ev.Customers = len(tests)
	for _, r := range rankers {
		m := Metrics{Users: len(tests)}
		seen := map[string]bool{}
		for _, t := range tests {
			list := r.rank(t.h)
			p, rc, n, ap, hit := UserMetrics(list, t.relevant, k)
			m.Precision, m.Recall, m.NDCG, m.MAP, m.HitRate = m.Precision+p, m.Recall+rc, m.NDCG+n, m.MAP+ap, m.HitRate+hit
			for _, id := range list[:min(k, len(list))] {
				seen[id] = true
			}
		}
		f := float64(len(tests))
		m.Precision, m.Recall, m.NDCG, m.MAP, m.HitRate = m.Precision/f, m.Recall/f, m.NDCG/f, m.MAP/f, m.HitRate/f
		if len(trainedItems) > 0 {
			m.Coverage = float64(len(seen)) / float64(len(trainedItems))
		}
		ev.Models = append(ev.Models, EvaluationModel{Model: r.name, Metrics: m})
	}
	return ev, nil
}
