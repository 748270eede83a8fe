package recommendations

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// SimilarInput is what Similar needs for one item.
type SimilarInput struct {
	// Item is the target's attributes; they drive the attribute fallback.
	Item Item
	// Neighbours is the target's trained list (empty for a new item).
	Neighbours []Neighbour
	// Items holds the attributes of every item that may be returned.
	Items map[string]Item
	// Pool is where the attribute fallback looks, typically the items of
	// the target's category; it may be nil.
	Pool []Item
	// Purchased are the customer's purchased items, dropped when
	// Options.ExcludePurchased is set.
	Purchased []string
}

// Similar returns up to opt.Limit items like in.Item: its trained
// neighbours that pass the filters, then, when those run short (a new item
// has none), items of in.Pool sharing category, brand and price band,
// marked Backfill. Out-of-stock items and the target itself are never
// returned. Mode is ignored.
func (s Scorer) Similar(in SimilarInput, opt Options) []Recommendation {
	if opt.Limit <= 0 {
		return nil
	}
	purchases := make([]PurchaseSummary, len(in.Purchased))
	for n, id := range in.Purchased {
		purchases[n] = PurchaseSummary{ItemID: id, Count: 1}
	}
	f := newFilter(Input{Items: in.Items, Purchases: purchases}, opt)
	f.excluded[in.Item.ItemID] = true
	out := make([]Recommendation, 0, opt.Limit+s.DiversityWindow)
	seen := map[string]bool{}
	want := opt.Limit + max(s.DiversityWindow, 0)
	for _, nb := range in.Neighbours {
		if len(out) >= want {
			break
		}
		if nb.Score <= 0 || seen[nb.ItemID] || !f.discoverOK(nb.ItemID) {
			continue
		}
		seen[nb.ItemID] = true
		r := Recommendation{ItemID: nb.ItemID, Score: nb.Score}
		if opt.Explain {
			r.Reason = &Reason{Kind: ReasonSimilar, Items: []string{in.Item.ItemID}, Text: "bought together with " + in.Item.ItemID}
		}
		out = append(out, r)
	}
	if len(out) < want {
		for _, nb := range SimilarByAttributes(in.Item, in.Pool, len(in.Pool)) {
			if len(out) >= want {
				break
			}
			if seen[nb.ItemID] || !f.discoverOK(nb.ItemID) {
				continue
			}
			seen[nb.ItemID] = true
			r := Recommendation{ItemID: nb.ItemID, Backfill: true}
			if opt.Explain {
				r.Reason = &Reason{Kind: ReasonAttributes, Items: []string{in.Item.ItemID}, Text: "similar to " + in.Item.ItemID}
			}
			out = append(out, r)
		}
	}
	out = diversify(out, in.Items, s.MaxPerCategory, s.DiversityWindow)
	if len(out) > opt.Limit {
		out = out[:opt.Limit]
	}
	return out
}

// AttributeSimilarity scores how alike two items look from their
// attributes alone, in [0, 1]:
//
//	0.6 × shared category depth / deeper path depth
//	+ 0.25 if both have the same non-empty brand
//	+ 0.15 × (1 − |log2(price a / price b)|) when both prices are known and
//	  within a factor of two (the same price band).
//
// Category dominates because a same-brand item in another department is a
// worse substitute than an unbranded one on the same shelf.
func AttributeSimilarity(a, b Item) float64 {
	var s float64
	if a.Category != "" && b.Category != "" {
		pa, pb := strings.Split(a.Category, "/"), strings.Split(b.Category, "/")
		shared := 0
		for shared < len(pa) && shared < len(pb) && pa[shared] == pb[shared] {
			shared++
		}
		s += 0.6 * float64(shared) / float64(max(len(pa), len(pb)))
	}
	if a.Brand != "" && strings.EqualFold(a.Brand, b.Brand) {
		s += 0.25
	}
	if a.PriceMinor > 0 && b.PriceMinor > 0 {
		if d := math.Abs(math.Log2(float64(a.PriceMinor) / float64(b.PriceMinor))); d < 1 {
			s += 0.15 * (1 - d)
		}
	}
	return s
}

// SimilarByAttributes ranks pool by AttributeSimilarity to target and
// returns the best k with a positive score, in the neighbour-list format,
// so it can stand in for the list of an item that has no interactions yet.
// Out-of-stock items are left in: filters belong to the caller.
func SimilarByAttributes(target Item, pool []Item, k int) []Neighbour {
	var out []Neighbour
	for _, it := range pool {
		if it.ItemID == target.ItemID {
			continue
		}
		if s := AttributeSimilarity(target, it); s > 0 {
			out = append(out, Neighbour{ItemID: it.ItemID, Score: s})
		}
	}
	slices.SortFunc(out, func(a, b Neighbour) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ItemID, b.ItemID))
	})
	if k >= 0 && len(out) > k {
		out = out[:k]
	}
	return out
}
