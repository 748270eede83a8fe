package eval

import (
	"slices"
	"strings"
	"time"

	"tailor/shared/recommendations"
)

// RecentEvents is the length of the recent-interactions list a customer
// record keeps, and so what the scorer sees per user in evaluation.
const RecentEvents = 50

// tailor runs Tailor's trained model and scorer the way the recommend
// function does: the user's bounded recent list and purchase summary,
// neighbour lists of those items, popularity for backfill (which
// evaluation then drops).
type tailor struct {
	model  *recommendations.Model
	scorer recommendations.Scorer
	mode   recommendations.Mode
	asOf   time.Time
	items  map[string]recommendations.Item
	recent map[string][]recommendations.Event
	bought map[string][]recommendations.PurchaseSummary
}

// Tailor trains Tailor's model on split with cfg (AsOf is set from the
// split) and returns it as a Recommender scoring in mode.
func Tailor(split Split, cfg recommendations.TrainConfig, scorer recommendations.Scorer, mode recommendations.Mode) (Recommender, error) {
	cfg.AsOf = split.AsOf
	items := map[string]recommendations.Item{}
	for _, in := range split.Train {
		items[in.ItemID] = recommendations.Item{ItemID: in.ItemID, InStock: true}
	}
	t := tailor{scorer: scorer, mode: mode, asOf: split.AsOf, items: items,
		recent: map[string][]recommendations.Event{}, bought: map[string][]recommendations.PurchaseSummary{}}
	users := byUser(split.Train)
	hs := make([]recommendations.History, 0, len(users))
	for u, evs := range users {
		from := max(0, len(evs)-RecentEvents)
		for _, in := range evs[from:] {
			t.recent[u] = append(t.recent[u], recommendations.Event{ItemID: in.ItemID, Type: in.Type, Time: in.Time})
		}
		pos := map[string]int{}
		lastDay := map[string]int64{}
		var ps []recommendations.PurchaseSummary
		for _, in := range evs {
			if in.Type != recommendations.Purchase {
				continue
			}
			n, ok := pos[in.ItemID]
			if !ok {
				n = len(ps)
				pos[in.ItemID] = n
				ps = append(ps, recommendations.PurchaseSummary{ItemID: in.ItemID})
				lastDay[in.ItemID] = -1 << 62
			}
			// Count purchase occasions (days), as the customer aggregates do.
			if d := in.Time.Unix() / 86400; d != lastDay[in.ItemID] {
				ps[n].Count++
				lastDay[in.ItemID] = d
			}
			ps[n].Last = in.Time
		}
		t.bought[u] = ps
		hs = append(hs, recommendations.History{CustomerID: u, Recent: t.recent[u], Purchases: ps})
	}
	// Train on what the customer records hold, as the train job does.
	slices.SortFunc(hs, func(a, b recommendations.History) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	m, err := recommendations.Train(recommendations.HistoryInteractions(hs), items, cfg)
	if err != nil {
		return nil, err
	}
	t.model = m
	return t, nil
}

func (t tailor) Recommend(user string, exclude map[string]bool, k int) []string {
	ex := make([]string, 0, len(exclude))
	for id := range exclude {
		ex = append(ex, id)
	}
	in := recommendations.Input{
		Now:        t.asOf,
		Recent:     t.recent[user],
		Purchases:  t.bought[user],
		ItemModels: t.model.Items,
		Items:      t.items,
		Popular:    recommendations.FindPopular(t.model.Popular, 30, ""),
	}
	recs := t.scorer.Score(in, recommendations.Options{Limit: k, Mode: t.mode, Exclude: ex})
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		if !r.Backfill {
			out = append(out, r.ItemID)
		}
	}
	return out
}
