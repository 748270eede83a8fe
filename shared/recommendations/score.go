package recommendations

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Mode selects what a personalized list is made of.
type Mode string

// Modes.
const (
	// Discover recommends items related to the customer's history.
	Discover Mode = "discover"
	// BuyAgain ranks the customer's own past purchases by repeat likelihood.
	BuyAgain Mode = "buy_again"
	// Mixed blends both (Scorer.MixWeight).
	Mixed Mode = "mixed"
)

// Event is one entry of a customer's bounded recent-interactions list.
type Event struct {
	ItemID string    `json:"item_id"`
	Type   EventType `json:"type"`
	Time   time.Time `json:"time"`
}

// PurchaseSummary is what a customer record keeps per purchased item.
type PurchaseSummary struct {
	ItemID string `json:"item_id"`
	// Count is the number of purchase occasions (orders or days).
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// Input is everything the scorer needs for one request; the caller loads it.
// Only Items is required to be complete: an item missing from Items is
// treated as no longer in the catalogue and never returned.
type Input struct {
	Now       time.Time
	Recent    []Event           // bounded list, any order
	Purchases []PurchaseSummary // the customer's purchased items
	InCart    []string
	// CategoryAffinity maps a top-level category to the customer's affinity
	// (any non-negative scale; it is normalised by its maximum).
	CategoryAffinity map[string]float64
	// DeclaredCategories are categories the customer said they like; they
	// lead the cold-start fallback.
	DeclaredCategories []string
	// ItemModels holds the trained model of each history item (from Recent
	// and Purchases). A new item without one contributes nothing unless the
	// caller supplies attribute neighbours (SimilarByAttributes) instead.
	ItemModels map[string]ItemModel
	// Items holds the attributes of every item that may be returned.
	Items map[string]Item
	// Order, when set, is the ids of Items sorted, so that the last-resort
	// backfill need not sort them per request.
	Order []string
	// Popular is the catalogue-wide popularity list; PopularByCategory the
	// lists of top-level categories, used for fallback and backfill.
	Popular           []ScoredItem
	PopularByCategory map[string][]ScoredItem
}

// Options are the per-request choices.
type Options struct {
	Limit int
	Mode  Mode // Discover when empty
	// IncludeCategories keeps only items under one of these category paths
	// (a prefix match on whole segments); ExcludeCategories drops them.
	IncludeCategories []string
	ExcludeCategories []string
	// MinPriceMinor and MaxPriceMinor bound the price; 0 means no bound.
	MinPriceMinor int64
	MaxPriceMinor int64
	// ExcludePurchased drops the customer's purchased items from discovery
	// and backfill; buy-again candidates are purchased items by definition
	// and are not affected (ask for Discover to get no repurchases).
	ExcludePurchased bool
	ExcludeInCart    bool
	// Exclude drops these items everywhere (already shown, already owned...).
	Exclude []string
	// Explain asks for a Reason on every item.
	Explain bool
}

// ReasonKind says why an item was recommended.
type ReasonKind string

// Reason kinds.
const (
	ReasonBought      ReasonKind = "because_you_bought"
	ReasonCarted      ReasonKind = "because_you_added_to_cart"
	ReasonViewed      ReasonKind = "because_you_viewed"
	ReasonBuyAgain    ReasonKind = "you_bought_this_before"
	ReasonPopularIn   ReasonKind = "popular_in_category"
	ReasonPopular     ReasonKind = "popular"
	ReasonSimilar     ReasonKind = "similar_to"
	ReasonAttributes  ReasonKind = "similar_attributes"
	ReasonCatalogFill ReasonKind = "catalog"
)

// Reason explains one recommendation. Items cites the history items that
// contributed most (strongest first); Category names the category of a
// popularity reason.
type Reason struct {
	Kind     ReasonKind `json:"kind"`
	Items    []string   `json:"items,omitempty"`
	Category string     `json:"category,omitempty"`
	Text     string     `json:"text"`
}

// Recommendation is one ranked item.
type Recommendation struct {
	ItemID string `json:"item_id"`
	// Score orders the personalized part of the list; backfilled items have
	// Score 0 and come after it.
	Score float64 `json:"score"`
	// Backfill marks items added from popularity or the catalogue to reach
	// the requested length, not from the customer's history.
	Backfill bool    `json:"backfill,omitempty"`
	Reason   *Reason `json:"reason,omitempty"`
}

// Scorer ranks items for a customer. The zero value is not useful; start
// from DefaultScorer. A Scorer is a value with no state and is safe for
// concurrent use.
type Scorer struct {
	// EventWeights weighs history events by type.
	EventWeights map[EventType]float64
	// RecencyHalfLife ages history events: an event this old counts half.
	RecencyHalfLife time.Duration
	// BuyAgainHalfLife ages the last purchase in buy-again scoring; 0
	// (the default) does not age it.
	BuyAgainHalfLife time.Duration
	// RepeatRateExponent raises the item's repeat rate (the share of its
	// buyers who bought it on two or more occasions) before it multiplies
	// the buy-again score; 0 leaves the purchase count alone.
	RepeatRateExponent float64
	// MixWeight multiplies ln(1 + buy-again) in Mixed mode (see blend).
	MixWeight float64
	// CategoryBoost multiplies discovery scores by 1 + boost × affinity of
	// the item's top-level category (affinity normalised to 0..1).
	CategoryBoost float64
	// PopularityWeight adds weight × normalised popularity to discovery
	// scores of items that already have a history-based score.
	PopularityWeight float64
	// MaxPerCategory items of one top-level category may appear in the
	// first DiversityWindow positions, unless the candidates offer nothing
	// else; 0 disables the rule.
	MaxPerCategory  int
	DiversityWindow int
	// HistoryTransform maps a history item's summed weight to what it
	// multiplies its neighbour weights by (the linear model is trained on
	// transformed weights, so the request applies the same map).
	HistoryTransform Transform
}

// DefaultScorer returns the scorer settings chosen by offline evaluation
// (docs/evaluation.md).
func DefaultScorer() Scorer {
	return Scorer{
		EventWeights:       DefaultEventWeights(),
		RecencyHalfLife:    60 * 24 * time.Hour,
		RepeatRateExponent: 0.5,
		MixWeight:          2,
		HistoryTransform:   Log1p,
		CategoryBoost:      0.5,
		PopularityWeight:   0,
		MaxPerCategory:     4,
		DiversityWindow:    10,
	}
}

// candidate accumulates one item's score during a request.
type candidate struct {
	id       string
	discover float64
	buyAgain float64
	score    float64
	// The two history items contributing most, as indexes into hist.
	top  [2]int32
	topW [2]float64
	// hidden marks an item the filters keep out of discovery, decided
	// once when a neighbour list first names it.
	hidden bool
}

// histItem is one distinct item of the customer's history.
type histItem struct {
	id    string
	w     float64
	kind  EventType // the type that contributed most
	kindW float64
}

// Score returns up to opt.Limit recommendations, exactly opt.Limit whenever
// the items in in.Items allow it under the filters.
func (s Scorer) Score(in Input, opt Options) []Recommendation {
	if opt.Limit <= 0 {
		return nil
	}
	mode := opt.Mode
	if mode == "" {
		mode = Discover
	}
	f := newFilter(in, opt)
	hist := s.history(in)
	// Candidates are at most every listed neighbour and purchase, and at
	// most the items that may be returned: size the map once, since
	// growing it costs more than scoring.
	hint := len(in.Purchases)
	if mode != BuyAgain {
		for _, h := range hist {
			hint += len(in.ItemModels[h.id].Neighbours)
		}
	}
	hint = min(hint, len(in.Items)+len(in.Purchases))
	idx := make(map[string]int32, hint)
	cands := make([]candidate, 0, hint)
	get := func(id string) *candidate {
		n, ok := idx[id]
		if !ok {
			n = int32(len(cands))
			idx[id] = n
			cands = append(cands, candidate{id: id, top: [2]int32{-1, -1}})
		}
		return &cands[n]
	}
	if mode != BuyAgain {
		for h := range hist {
			hi := &hist[h]
			if hi.w <= 0 {
				continue
			}
			w := transform(hi.w, s.HistoryTransform)
			for _, nb := range in.ItemModels[hi.id].Neighbours {
				if nb.Score == 0 {
					continue
				}
				n, ok := idx[nb.ItemID]
				if !ok {
					n = int32(len(cands))
					idx[nb.ItemID] = n
					cands = append(cands, candidate{id: nb.ItemID, top: [2]int32{-1, -1}, hidden: !f.discoverOK(nb.ItemID)})
				}
				c := &cands[n]
				if c.hidden {
					continue
				}
				contrib := w * nb.Score
				c.discover += contrib
				switch {
				case contrib > c.topW[0]:
					c.top[1], c.topW[1] = c.top[0], c.topW[0]
					c.top[0], c.topW[0] = int32(h), contrib
				case contrib > c.topW[1]:
					c.top[1], c.topW[1] = int32(h), contrib
				}
			}
		}
		s.adjustDiscovery(in, cands)
	}
	if mode != Discover {
		for _, p := range in.Purchases {
			if p.Count <= 0 || !f.allowed(p.ItemID) {
				continue
			}
			get(p.ItemID).buyAgain = s.buyAgain(p, in.ItemModels[p.ItemID].Customers, in.ItemModels[p.ItemID].RepeatRate, in.Now)
		}
	}
	blend(cands, mode, s.MixWeight)
	// Only the head of the ranking can reach the list (the diversity pass
	// may pull up to window × perCat items past limit), so select it with a
	// bounded heap instead of sorting every candidate.
	need := opt.Limit + max(s.DiversityWindow, 1)*max(s.MaxPerCategory, 1)
	better := func(a, b int) bool {
		if cands[a].score != cands[b].score {
			return cands[a].score > cands[b].score
		}
		return cands[a].id < cands[b].id
	}
	head := selectTop(len(cands), need, func(n int) bool { return cands[n].score > 0 }, better)
	out := make([]Recommendation, 0, len(head)+opt.Limit+s.DiversityWindow)
	for _, n := range head {
		r := Recommendation{ItemID: cands[n].id, Score: cands[n].score}
		if opt.Explain {
			r.Reason = explainCandidate(cands[n], hist)
		}
		out = append(out, r)
	}
	seen := make(map[string]bool, len(out)+opt.Limit)
	for _, r := range out {
		seen[r.ItemID] = true
	}
	out = s.backfill(in, opt, f, out, seen, opt.Limit+s.DiversityWindow)
	out = diversify(out, in.Items, s.MaxPerCategory, s.DiversityWindow)
	if len(out) > opt.Limit {
		out = out[:opt.Limit]
	}
	return out
}

// history merges the recent events and purchase summaries into one weight
// per distinct item: Σ type weight × recency decay over its recent events;
// a purchased item absent from the recent list counts as one purchase at
// its last purchase time.
func (s Scorer) history(in Input) []histItem {
	hist := make([]histItem, 0, len(in.Recent)+len(in.Purchases))
	pos := make(map[string]int, cap(hist))
	for _, e := range in.Recent {
		w := s.EventWeights[e.Type] * decay(in.Now.Sub(e.Time), s.RecencyHalfLife)
		n, ok := pos[e.ItemID]
		if !ok {
			n = len(hist)
			pos[e.ItemID] = n
			hist = append(hist, histItem{id: e.ItemID})
		}
		hist[n].w += w
		if w > hist[n].kindW {
			hist[n].kind, hist[n].kindW = e.Type, w
		}
	}
	for _, p := range in.Purchases {
		if _, ok := pos[p.ItemID]; ok || p.Count <= 0 {
			continue
		}
		w := s.EventWeights[Purchase] * decay(in.Now.Sub(p.Last), s.RecencyHalfLife)
		pos[p.ItemID] = len(hist)
		hist = append(hist, histItem{id: p.ItemID, w: w, kind: Purchase, kindW: w})
	}
	return hist
}

// adjustDiscovery applies the category-affinity boost and the popularity
// prior to the discovery scores.
func (s Scorer) adjustDiscovery(in Input, cands []candidate) {
	var maxAff float64
	for _, a := range in.CategoryAffinity {
		maxAff = max(maxAff, a)
	}
	var pop map[string]float64
	if s.PopularityWeight > 0 && len(in.Popular) > 0 && in.Popular[0].Score > 0 {
		pop = make(map[string]float64, len(in.Popular))
		for _, p := range in.Popular {
			pop[p.ItemID] = p.Score / in.Popular[0].Score
		}
	}
	var maxD float64
	for _, c := range cands {
		maxD = max(maxD, c.discover)
	}
	for n := range cands {
		c := &cands[n]
		if c.discover <= 0 {
			continue
		}
		if maxAff > 0 && s.CategoryBoost > 0 {
			c.discover *= 1 + s.CategoryBoost*in.CategoryAffinity[in.Items[c.id].TopCategory()]/maxAff
		}
		// The prior is scaled to the strongest history score so that it
		// breaks near-ties rather than overriding the customer's history.
		c.discover += s.PopularityWeight * maxD * pop[c.id]
	}
}

// buyAgain scores a purchased item: its purchase count with the item's
// popularity (customers in training) breaking ties (the tie-break term is
// below 1, so it never outranks a whole purchase), times the item's
// repeat rate to the power RepeatRateExponent, aged by the time since the
// last purchase when BuyAgainHalfLife is set.
func (s Scorer) buyAgain(p PurchaseSummary, customers int, rate float64, now time.Time) float64 {
	tie := float64(customers) / (float64(customers) + 1)
	n := float64(p.Count) + tie
	if s.RepeatRateExponent != 0 {
		n *= math.Pow(rate, s.RepeatRateExponent)
	}
	return n * decay(now.Sub(p.Last), s.BuyAgainHalfLife)
}

// blend turns the discovery and buy-again parts into one score. Mixed
// adds mix × ln(1 + buy-again) to the discovery score: both are then on
// the scale of the log-weights the linear model is trained on, where the
// buy-again term plays the part of the item's own weight that the model's
// zero diagonal leaves out.
func blend(cands []candidate, mode Mode, mix float64) {
	for n := range cands {
		c := &cands[n]
		switch mode {
		case Discover:
			c.score = c.discover
		case BuyAgain:
			c.score = c.buyAgain
		default:
			c.score = c.discover + mix*math.Log1p(c.buyAgain)
		}
	}
}

func explainCandidate(c candidate, hist []histItem) *Reason {
	if c.buyAgain > 0 && (c.discover <= 0 || c.buyAgain >= c.discover) {
		return &Reason{Kind: ReasonBuyAgain, Items: []string{c.id}, Text: "you bought this before"}
	}
	var ids []string
	for k, h := range c.top {
		if h >= 0 && c.topW[k] > 0 {
			ids = append(ids, hist[h].id)
		}
	}
	if len(ids) == 0 {
		return &Reason{Kind: ReasonPopular, Text: "popular"}
	}
	kind, verb := ReasonViewed, "viewed"
	switch hist[c.top[0]].kind {
	case Purchase:
		kind, verb = ReasonBought, "bought"
	case AddToCart:
		kind, verb = ReasonCarted, "added to your cart"
	}
	return &Reason{Kind: kind, Items: ids, Text: "because you " + verb + " " + strings.Join(ids, " and ")}
}

// backfill appends items until out holds want entries: popular items in
// the declared categories, then in the categories of highest affinity,
// then catalogue-wide, then any remaining eligible catalogue item.
func (s Scorer) backfill(in Input, opt Options, f *filter, out []Recommendation, seen map[string]bool, want int) []Recommendation {
	add := func(id string, reason func() *Reason) bool {
		if len(out) >= want {
			return false
		}
		if seen[id] || !f.discoverOK(id) {
			return true
		}
		seen[id] = true
		r := Recommendation{ItemID: id, Backfill: true}
		if opt.Explain {
			r.Reason = reason()
		}
		out = append(out, r)
		return true
	}
	for _, cat := range backfillCategories(in) {
		for _, p := range in.PopularByCategory[cat] {
			if !add(p.ItemID, func() *Reason {
				return &Reason{Kind: ReasonPopularIn, Category: cat, Text: "popular in " + cat}
			}) {
				return out
			}
		}
	}
	for _, p := range in.Popular {
		if !add(p.ItemID, func() *Reason { return &Reason{Kind: ReasonPopular, Text: "popular"} }) {
			return out
		}
	}
	if len(out) < want {
		order := in.Order
		if order == nil {
			order = slices.Sorted(maps.Keys(in.Items))
		}
		for _, id := range order {
			if !add(id, func() *Reason { return &Reason{Kind: ReasonCatalogFill, Text: "from the catalogue"} }) {
				return out
			}
		}
	}
	return out
}

// backfillCategories lists the declared categories, then the others by
// descending affinity.
func backfillCategories(in Input) []string {
	cats := slices.Clone(in.DeclaredCategories)
	var inferred []string
	for c, a := range in.CategoryAffinity {
		if a > 0 && !slices.Contains(cats, c) {
			inferred = append(inferred, c)
		}
	}
	slices.SortFunc(inferred, func(a, b string) int {
		return cmp.Or(cmp.Compare(in.CategoryAffinity[b], in.CategoryAffinity[a]), cmp.Compare(a, b))
	})
	return append(cats, inferred...)
}

// diversify reorders the head of the list so that at most perCat items of
// one top-level category sit in the first window positions. Items pushed
// out keep their relative order and come right after the window; when the
// list has no alternatives left, they fill the window anyway. Items without
// a category are never capped.
func diversify(list []Recommendation, items map[string]Item, perCat, window int) []Recommendation {
	if perCat <= 0 || window <= 0 || len(list) <= perCat {
		return list
	}
	counts := map[string]int{}
	head := make([]Recommendation, 0, len(list))
	var deferred []Recommendation
	n := 0
	for ; n < len(list) && len(head) < window; n++ {
		r := list[n]
		cat := items[r.ItemID].TopCategory()
		if cat != "" && counts[cat] >= perCat {
			deferred = append(deferred, r)
			continue
		}
		counts[cat]++
		head = append(head, r)
	}
	head = append(head, deferred...)
	return append(head, list[n:]...)
}

// filter holds the request's exclusion sets.
type filter struct {
	opt       Options
	items     map[string]Item
	excluded  map[string]bool
	purchased map[string]bool
}

func newFilter(in Input, opt Options) *filter {
	f := &filter{opt: opt, items: in.Items, excluded: make(map[string]bool, len(opt.Exclude)+len(in.InCart))}
	for _, id := range opt.Exclude {
		f.excluded[id] = true
	}
	if opt.ExcludeInCart {
		for _, id := range in.InCart {
			f.excluded[id] = true
		}
	}
	if opt.ExcludePurchased {
		f.purchased = make(map[string]bool, len(in.Purchases))
		for _, p := range in.Purchases {
			f.purchased[p.ItemID] = true
		}
	}
	return f
}

// allowed applies the rules every returned item obeys: known, in stock,
// not excluded, inside the category and price filters.
func (f *filter) allowed(id string) bool {
	it, ok := f.items[id]
	if !ok || !it.InStock || f.excluded[id] {
		return false
	}
	if len(f.opt.IncludeCategories) > 0 && !underAny(it.Category, f.opt.IncludeCategories) {
		return false
	}
	if underAny(it.Category, f.opt.ExcludeCategories) {
		return false
	}
	if f.opt.MinPriceMinor > 0 && it.PriceMinor < f.opt.MinPriceMinor {
		return false
	}
	if f.opt.MaxPriceMinor > 0 && it.PriceMinor > f.opt.MaxPriceMinor {
		return false
	}
	return true
}

// discoverOK additionally drops purchased items when asked to.
func (f *filter) discoverOK(id string) bool {
	return !f.purchased[id] && f.allowed(id)
}

// underAny reports whether path lies under one of the prefixes (see
// UnderCategory); empty prefixes cover nothing.
func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.Trim(p, "/") != "" && UnderCategory(path, p) {
			return true
		}
	}
	return false
}

// String renders a recommendation for logs and test failures.
func (r Recommendation) String() string {
	b := ""
	if r.Backfill {
		b = " backfill"
	}
	return fmt.Sprintf("%s(%.4g%s)", r.ItemID, r.Score, b)
}

// selectTop returns the indexes in [0, count) that pass keep, best first
// by better, at most n of them. It keeps a min-heap of the n best seen so
// far, so it costs O(count · log n).
func selectTop(count, n int, keep func(int) bool, better func(a, b int) bool) []int {
	h := make([]int, 0, n+1)
	for i := range count {
		if !keep(i) {
			continue
		}
		if len(h) == n {
			if !better(i, h[0]) {
				continue
			}
			h[0] = i
		} else {
			h = append(h, i)
			for c := len(h) - 1; c > 0; {
				p := (c - 1) / 2
				if !better(h[p], h[c]) {
					break
				}
				h[p], h[c] = h[c], h[p]
				c = p
			}
			continue
		}
		for p := 0; ; {
			l := 2*p + 1
			if l >= len(h) {
				break
			}
			w := l
			if r := l + 1; r < len(h) && better(h[w], h[r]) {
				w = r
			}
			if !better(h[p], h[w]) {
				break
			}
			h[p], h[w] = h[w], h[p]
			p = w
		}
	}
	slices.SortFunc(h, func(a, b int) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	return h
}
