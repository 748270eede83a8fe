package eval

import (
	"cmp"
	"slices"
	"time"

	"tailor/shared/recommendations"
)

// history is one user's training interactions, oldest first.
type history map[string][]recommendations.Interaction

func byUser(train []recommendations.Interaction) history {
	h := history{}
	for _, in := range train {
		h[in.CustomerID] = append(h[in.CustomerID], in)
	}
	for _, evs := range h {
		slices.SortStableFunc(evs, func(a, b recommendations.Interaction) int { return a.Time.Compare(b.Time) })
	}
	return h
}

// topItems ranks scores best first (ties by id), skipping excluded items
// and non-positive scores, and keeps k.
func topItems(scores map[string]float64, exclude map[string]bool, k int) []string {
	type kv struct {
		id string
		s  float64
	}
	all := make([]kv, 0, len(scores))
	for id, s := range scores {
		if s > 0 && !exclude[id] {
			all = append(all, kv{id, s})
		}
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Or(cmp.Compare(b.s, a.s), cmp.Compare(a.id, b.id)) })
	out := make([]string, 0, min(k, len(all)))
	for _, e := range all[:min(k, len(all))] {
		out = append(out, e.id)
	}
	return out
}

// popularity recommends the items bought by the most distinct customers in
// training, the same list for everyone.
type popularity struct{ ranked []string }

// Popularity returns the popularity baseline for split.
func Popularity(split Split) Recommender {
	buyers := map[string]map[string]bool{}
	for _, in := range split.Train {
		if in.Type != recommendations.Purchase {
			continue
		}
		if buyers[in.ItemID] == nil {
			buyers[in.ItemID] = map[string]bool{}
		}
		buyers[in.ItemID][in.CustomerID] = true
	}
	scores := make(map[string]float64, len(buyers))
	for id, b := range buyers {
		scores[id] = float64(len(b))
	}
	return popularity{ranked: topItems(scores, nil, len(scores))}
}

func (p popularity) Recommend(_ string, exclude map[string]bool, k int) []string {
	out := make([]string, 0, k)
	for _, id := range p.ranked {
		if len(out) == k {
			break
		}
		if !exclude[id] {
			out = append(out, id)
		}
	}
	return out
}

// itemKNN is plain item-based collaborative filtering: binary
// customer-item matrix, cosine similarity, 50 neighbours per item, no
// decay, weights or shrinkage; a candidate scores the sum of its
// similarities to the user's items.
type itemKNN struct {
	model *recommendations.Model
	items map[string][]string
}

// ItemKNN returns the plain item-kNN baseline for split.
func ItemKNN(split Split, neighbours int) (Recommender, error) {
	cfg := recommendations.TrainConfig{
		AsOf:         split.AsOf.Add(time.Nanosecond),
		Neighbours:   neighbours,
		Measure:      recommendations.Cosine,
		EventWeights: map[recommendations.EventType]float64{recommendations.Purchase: 1, recommendations.AddToCart: 1, recommendations.View: 1},
		Transform:    recommendations.Binary,
	}
	m, err := recommendations.Train(split.Train, nil, cfg)
	if err != nil {
		return nil, err
	}
	items := map[string][]string{}
	for u, evs := range byUser(split.Train) {
		seen := map[string]bool{}
		for _, in := range evs {
			if !seen[in.ItemID] && cfg.EventWeights[in.Type] > 0 {
				seen[in.ItemID] = true
				items[u] = append(items[u], in.ItemID)
			}
		}
	}
	return itemKNN{model: m, items: items}, nil
}

func (b itemKNN) Recommend(user string, exclude map[string]bool, k int) []string {
	scores := map[string]float64{}
	for _, h := range b.items[user] {
		for _, nb := range b.model.Items[h].Neighbours {
			scores[nb.ItemID] += nb.Score
		}
	}
	return topItems(scores, exclude, k)
}

// repeat recommends the user's own training purchases, most bought first
// (purchase days), ties broken by the item's popularity (distinct training
// buyers), then by id. Only meaningful with KeepSeen.
type repeat struct{ ranked map[string][]string }

// Repeat returns the repeat-purchase baseline for split.
func Repeat(split Split) Recommender {
	buyers := map[string]int{}
	days := map[string]map[string]map[int64]bool{}
	for _, in := range split.Train {
		if in.Type != recommendations.Purchase {
			continue
		}
		if days[in.CustomerID] == nil {
			days[in.CustomerID] = map[string]map[int64]bool{}
		}
		if days[in.CustomerID][in.ItemID] == nil {
			days[in.CustomerID][in.ItemID] = map[int64]bool{}
			buyers[in.ItemID]++
		}
		days[in.CustomerID][in.ItemID][in.Time.Unix()/86400] = true
	}
	ranked := map[string][]string{}
	for u, items := range days {
		scores := make(map[string]float64, len(items))
		for id, d := range items {
			// The popularity term is below 1: it only breaks ties of counts.
			scores[id] = float64(len(d)) + float64(buyers[id])/float64(buyers[id]+1)
		}
		ranked[u] = topItems(scores, nil, len(scores))
	}
	return repeat{ranked: ranked}
}

func (r repeat) Recommend(user string, exclude map[string]bool, k int) []string {
	out := make([]string, 0, k)
	for _, id := range r.ranked[user] {
		if len(out) == k {
			break
		}
		if !exclude[id] {
			out = append(out, id)
		}
	}
	return out
}
