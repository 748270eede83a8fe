package recommendations

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Popularity ranks items for each window (days before asOf) overall and per
// top-level category, keeping the best limit items per list. An item's
// score is the sum, over customers who touched it in the window, of the
// customer's strongest event weight for it (a buyer counts 5, a viewer 1
// with the default weights). Counting each customer once keeps one
// wholesale buyer from making an item "popular". attrs may be nil, in
// which case only the catalogue-wide lists are built. Lists are ordered by
// window, then category ("" first).
func Popularity(interactions []Interaction, attrs map[string]Item, asOf time.Time, windows []int, limit int, weights map[EventType]float64) []PopularList {
	type key struct{ cust, item string }
	var out []PopularList
	for _, days := range slices.Sorted(slices.Values(windows)) {
		from := asOf.Add(-time.Duration(days) * 24 * time.Hour)
		best := map[key]float64{}
		for _, in := range interactions {
			if in.CustomerID == "" || in.ItemID == "" || !in.Time.After(from) || in.Time.After(asOf) {
				continue
			}
			w := weights[in.Type]
			if w <= 0 {
				continue
			}
			k := key{in.CustomerID, in.ItemID}
			if w > best[k] {
				best[k] = w
			}
		}
		score := map[string]float64{}
		for k, w := range best {
			score[k.item] += w
		}
		byCat := map[string][]ScoredItem{}
		for id, s := range score {
			byCat[""] = append(byCat[""], ScoredItem{id, s})
			if cat := attrs[id].TopCategory(); cat != "" {
				byCat[cat] = append(byCat[cat], ScoredItem{id, s})
			}
		}
		cats := slices.Sorted(maps.Keys(byCat))
		if len(cats) == 0 {
			cats = []string{""}
		}
		for _, c := range cats {
			out = append(out, PopularList{WindowDays: days, Category: c, Items: rankScored(byCat[c], limit)})
		}
	}
	return out
}

// rankScored sorts best first (ties by id) and truncates to limit (0 keeps all).
func rankScored(items []ScoredItem, limit int) []ScoredItem {
	slices.SortFunc(items, func(a, b ScoredItem) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ItemID, b.ItemID))
	})
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items
}
