// Package service answers the recommendation requests: a customer's
// personalized list, items similar to an item, and popular items. It loads
// what the scorer needs by key through its Store (never a Scan), ranks
// with package recommendations' scorer, and checks every answered item
// against the live catalogue row. It holds no HTTP concerns and no scoring
// rules of its own.
//
// Each personalized request reads:
//
//  1. one GetItem of the customer record (recent interactions, purchases,
//     category affinity, consent; strongly consistent, so an event
//     ingested a moment ago counts);
//  2. one BatchGetItem of the neighbour lists of the customer's 50 most
//     recently touched items, together with the catalogue rows of the
//     purchased ones among them (the buy-again candidates);
//  3. one BatchGetItem of the catalogue rows of the shortlist: the items
//     the scorer ranks highest using the attributes stored with the lists at
//     training time. The scorer then ranks the shortlist again with the live
//     rows, so stock, price and category are always current.
//
// Popularity lists (fallback and backfill) come from an in-memory cache
// per execution environment that lives PopularTTL; a miss costs one more
// BatchGetItem.
package service

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/money"
	"tailor/shared/recommendations"
)

// Store is the storage the service reads. Implementations must be safe for
// concurrent use; the service calls Lists and Popular at the same time.
type Store interface {
	// Shopper reads the customer's aggregates and consent, strongly
	// consistent (an event ingested a moment ago counts). A customer
	// without a record is a NotFound error.
	Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error)
	// Lists reads the neighbour lists of the items in lists and the
	// catalogue rows of the items in live; missing ones are absent.
	Lists(ctx context.Context, lists, live []string) (recommendations.Lists, error)
	// Live reads the catalogue rows of ids; missing ones are absent.
	Live(ctx context.Context, ids []string) (map[string]catalog.Item, error)
	// Popular reads the popularity lists named by keys; lists that do not
	// exist are absent.
	Popular(ctx context.Context, keys []recommendations.PopularKey) (map[recommendations.PopularKey]recommendations.Popular, error)
}

// Limits of a request.
const (
	// MaxLimit is the longest list a request may ask for.
	MaxLimit = 50
	// DefaultLimit is the list length when the request names none.
	DefaultLimit = 10
	// MaxHistory is how many of the customer's most recently touched items
	// lend their neighbour lists: two keys each (list and catalogue row)
	// fill one BatchGetItem of 100 keys.
	MaxHistory = 50
	// maxShortlist is the most catalogue rows one BatchGetItem reads.
	maxShortlist = 100
	// fallbackCategories is how many of the customer's top categories get
	// their popularity list read for the cold-start fallback.
	fallbackCategories = 3
	// ServingWindow is the popularity window (days) used for fallback and
	// backfill of personalized and similar-item lists.
	ServingWindow = 30
	// BackfillWindow is the year-long popularity list read with the serving
	// one and appended after it, so a shop with no events in the serving
	// window still gets full lists rather than empty ones.
	BackfillWindow = 365
)

// Windows are the popularity windows GET /v1/popular offers, in days.
var Windows = []int{1, 7, 30}

// Service answers recommendation requests. Safe for concurrent use.
type Service struct {
	Store  Store
	Scorer recommendations.Scorer
	Now    func() time.Time
	// PopularTTL is how long a popularity list read from the table is
	// reused by this execution environment; 5 minutes when 0. Lists change
	// once a night, so staleness is bounded by the TTL after a training run.
	PopularTTL time.Duration

	mu    sync.Mutex
	cache map[recommendations.PopularKey]cachedList
}

type cachedList struct {
	list  recommendations.Popular
	found bool
	at    time.Time
}

// Query is one personalized request, already validated.
type Query struct {
	CustomerID string
	Limit      int
	Mode       recommendations.Mode
	// Category keeps only items under this category path ("Home" or
	// "Home/Kitchen"); "" keeps all.
	Category         string
	ExcludePurchased bool
	ExcludeInCart    bool
	// MinPriceMinor and MaxPriceMinor bound the price; 0 is no bound.
	MinPriceMinor, MaxPriceMinor int64
	Explain                      bool
}

// Item is one answered item: the live catalogue attributes and why it is
// there.
type Item struct {
	ItemID   string   `json:"item_id"`
	Title    string   `json:"title"`
	Category []string `json:"category"`
	Brand    string   `json:"brand,omitempty"`
	Price    string   `json:"price"`
	Currency string   `json:"currency"`
	Score    float64  `json:"score"`
	// Backfill marks items added from popularity or the catalogue to reach
	// the requested length rather than ranked from the customer's history
	// (or, for similar items, from co-occurrence).
	Backfill bool                    `json:"backfill"`
	Reason   *recommendations.Reason `json:"reason,omitempty"`
}

// List is a personalized answer.
type List struct {
	CustomerID string               `json:"customer_id"`
	Mode       recommendations.Mode `json:"mode"`
	// Personalized is false when the customer has no usable history (new
	// or unknown, or personalization consent withdrawn): the list is then
	// popular items only.
	Personalized bool   `json:"personalized"`
	Items        []Item `json:"items"`
}

// Recommend answers a customer's personalized list.
func (s *Service) Recommend(ctx context.Context, q Query) (List, error) {
	out := List{CustomerID: q.CustomerID, Mode: q.Mode, Items: []Item{}}
	agg := customers.NewAggregates()
	sh, err := s.Store.Shopper(ctx, q.CustomerID)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return out, err
	case consentWithdrawn(sh.Consent):
		// The customer said no to personalization: popular items only.
	default:
		agg = sh.Aggregates
	}
	now := s.Now()
	in := Input(agg, now)
	out.Personalized = len(in.Recent) > 0 || len(in.Purchases) > 0

	opt := recommendations.Options{Limit: q.Limit, Mode: q.Mode, MinPriceMinor: q.MinPriceMinor, MaxPriceMinor: q.MaxPriceMinor,
		ExcludeInCart: q.ExcludeInCart, Explain: q.Explain, ExcludePurchased: q.ExcludePurchased || q.Mode == recommendations.Discover}
	if q.ExcludePurchased {
		// The scorer's ExcludePurchased leaves buy-again candidates in; asking to
		// exclude purchases means none at all.
		for _, p := range in.Purchases {
			opt.Exclude = append(opt.Exclude, p.ItemID)
		}
	}
	if q.Category != "" {
		opt.IncludeCategories = []string{q.Category}
		// The requested category leads the fallback.
		in.DeclaredCategories = []string{recommendations.TopCategory(q.Category)}
	}

	hist, buyAgain := historyItems(in, q.Mode)
	keys := []recommendations.PopularKey{{WindowDays: ServingWindow}, {WindowDays: BackfillWindow}}
	for _, c := range slices.Concat(in.DeclaredCategories, topCategories(in.CategoryAffinity, fallbackCategories)) {
		keys = append(keys, recommendations.PopularKey{WindowDays: ServingWindow, Category: c})
	}
	var (
		lists    recommendations.Lists
		popular  map[recommendations.PopularKey]recommendations.Popular
		popErr   error
		wg       sync.WaitGroup
		listsErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		popular, popErr = s.popular(ctx, keys)
	}()
	if len(hist) > 0 {
		lists, listsErr = s.Store.Lists(ctx, hist, buyAgain)
	} else {
		lists = recommendations.NewLists()
	}
	wg.Wait()
	if err := cmp.Or(listsErr, popErr); err != nil {
		return out, err
	}
	in.ItemModels = lists.Models
	in.Popular = withBackfill(popular)
	in.PopularByCategory = map[string][]recommendations.ScoredItem{}
	trained := maps.Clone(lists.Trained)
	for k, p := range popular {
		if k.Category != "" {
			in.PopularByCategory[k.Category] = p.Items
		}
		for id, it := range p.Attrs {
			if _, ok := trained[id]; !ok {
				trained[id] = it
			}
		}
	}

	// Pass 1: rank with training-time attributes (live rows where read) to
	// choose the shortlist.
	in.Items = overlay(trained, lists.Live)
	first := opt
	first.Limit, first.Explain = shortlistSize(q.Limit), false
	live, err := s.shortlist(ctx, s.Scorer.Score(in, first), lists.Live)
	if err != nil {
		return out, err
	}
	// Pass 2: rank the shortlist with live rows only.
	in.Items = recoItems(live)
	for _, r := range s.Scorer.Score(in, opt) {
		out.Items = append(out.Items, answer(live[r.ItemID], r))
	}
	return out, nil
}

// SimilarQuery is one similar-items request, already validated.
type SimilarQuery struct {
	ItemID string
	Limit  int
	// ExcludeCustomer, when set, drops that customer's purchased and
	// in-cart items.
	ExcludeCustomer string
	Explain         bool
}

// SimilarList is a similar-items answer.
type SimilarList struct {
	ItemID string `json:"item_id"`
	Items  []Item `json:"items"`
}

// Similar answers the items like q.ItemID: its trained neighbours (items
// bought and viewed by the same customers), best first, then, when those
// run short (a new item has none), popular items of its category ranked by
// recommendations.SimilarByAttributes (category, brand, price band), marked backfill.
// An item missing from the catalogue is a NotFound error.
func (s *Service) Similar(ctx context.Context, q SimilarQuery) (SimilarList, error) {
	out := SimilarList{ItemID: q.ItemID, Items: []Item{}}
	lists, err := s.Store.Lists(ctx, []string{q.ItemID}, []string{q.ItemID})
	if err != nil {
		return out, err
	}
	target, ok := lists.Live[q.ItemID]
	if !ok {
		return out, &errs.Error{Op: "similar items", Kind: errs.NotFound, Detail: fmt.Sprintf("item %s does not exist", q.ItemID)}
	}
	opt := recommendations.Options{Limit: q.Limit, Explain: q.Explain}
	var purchased []string
	if q.ExcludeCustomer != "" {
		sh, err := s.Store.Shopper(ctx, q.ExcludeCustomer)
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return out, err
		default:
			purchased = slices.Sorted(maps.Keys(sh.Aggregates.Purchased))
			opt.ExcludePurchased = true
			opt.Exclude = InCart(sh.Aggregates.Recent)
		}
	}
	keys := []recommendations.PopularKey{{WindowDays: BackfillWindow}, {WindowDays: ServingWindow}}
	if top := target.TopCategory(); top != "" {
		keys = append(keys, recommendations.PopularKey{WindowDays: ServingWindow, Category: top})
	}
	popular, err := s.popular(ctx, keys)
	if err != nil {
		return out, err
	}
	// The attribute fallback looks at the popular items of the target's
	// category and of the whole catalogue: a pool read by key, not a Scan.
	trained := maps.Clone(lists.Trained)
	var pool []recommendations.Item
	for _, k := range slices.Backward(keys) {
		for _, p := range popular[k].Items {
			it := popular[k].Attrs[p.ItemID]
			if _, ok := trained[p.ItemID]; !ok {
				trained[p.ItemID] = it
			}
			pool = append(pool, it)
		}
	}
	in := recommendations.SimilarInput{Item: recommendations.CatalogItem(target), Neighbours: lists.Models[q.ItemID].Neighbours,
		Items: overlay(trained, lists.Live), Pool: pool, Purchased: purchased}
	first := opt
	first.Limit, first.Explain = shortlistSize(q.Limit), false
	live, err := s.shortlist(ctx, s.Scorer.Similar(in, first), lists.Live)
	if err != nil {
		return out, err
	}
	in.Items = recoItems(live)
	in.Pool = in.Pool[:0:0]
	for _, it := range pool {
		if l, ok := live[it.ItemID]; ok {
			in.Pool = append(in.Pool, recommendations.CatalogItem(l))
		}
	}
	for _, r := range s.Scorer.Similar(in, opt) {
		out.Items = append(out.Items, answer(live[r.ItemID], r))
	}
	return out, nil
}

// PopularQuery is one popular-items request, already validated.
type PopularQuery struct {
	WindowDays int
	Category   string
	Limit      int
}

// PopularList is a popular-items answer.
type PopularList struct {
	WindowDays int    `json:"window_days"`
	Category   string `json:"category,omitempty"`
	// AsOf is when the list was trained; absent before the first run.
	AsOf  *time.Time `json:"as_of,omitempty"`
	Items []Item     `json:"items"`
}

// Popular answers the most popular in-stock items of a window, overall or
// under a category, from the trained list of the category's top level.
func (s *Service) Popular(ctx context.Context, q PopularQuery) (PopularList, error) {
	out := PopularList{WindowDays: q.WindowDays, Category: q.Category, Items: []Item{}}
	k := recommendations.PopularKey{WindowDays: q.WindowDays, Category: recommendations.TopCategory(q.Category)}
	lists, err := s.popular(ctx, []recommendations.PopularKey{k})
	if err != nil {
		return out, err
	}
	l, ok := lists[k]
	if !ok {
		return out, nil
	}
	out.AsOf = &l.AsOf
	// Candidates whose training-time category already fails are skipped
	// before any read; the live row decides for the rest.
	var cands []recommendations.ScoredItem
	for _, p := range l.Items {
		if recommendations.UnderCategory(l.Attrs[p.ItemID].Category, q.Category) {
			cands = append(cands, p)
		}
	}
	for len(cands) > 0 && len(out.Items) < q.Limit {
		n := min(len(cands), shortlistSize(q.Limit-len(out.Items)))
		chunk := cands[:n]
		cands = cands[n:]
		ids := make([]string, len(chunk))
		for i, p := range chunk {
			ids[i] = p.ItemID
		}
		live, err := s.Store.Live(ctx, ids)
		if err != nil {
			return out, err
		}
		for _, p := range chunk {
			it, ok := live[p.ItemID]
			if !ok || !it.InStock || !recommendations.UnderCategory(strings.Join(it.Category, "/"), q.Category) || len(out.Items) >= q.Limit {
				continue
			}
			out.Items = append(out.Items, answer(it, recommendations.Recommendation{ItemID: p.ItemID, Score: p.Score}))
		}
	}
	return out, nil
}

// shortlist reads the live catalogue rows of the items of recs that are
// not in live yet, and returns live plus those rows.
func (s *Service) shortlist(ctx context.Context, recs []recommendations.Recommendation, live map[string]catalog.Item) (map[string]catalog.Item, error) {
	out := maps.Clone(live)
	var ids []string
	for _, r := range recs {
		if _, ok := out[r.ItemID]; !ok {
			ids = append(ids, r.ItemID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.Store.Live(ctx, ids)
	if err != nil {
		return nil, err
	}
	maps.Copy(out, rows)
	return out, nil
}

// popular returns the lists named by keys from the cache, reading the
// missing or expired ones with one call. Lists that do not exist are
// cached as absent too, so a store without a trained model is not read on
// every request.
func (s *Service) popular(ctx context.Context, keys []recommendations.PopularKey) (map[recommendations.PopularKey]recommendations.Popular, error) {
	ttl := cmp.Or(s.PopularTTL, 5*time.Minute)
	now := s.Now()
	out := make(map[recommendations.PopularKey]recommendations.Popular, len(keys))
	var missing []recommendations.PopularKey
	s.mu.Lock()
	for _, k := range keys {
		c, ok := s.cache[k]
		switch {
		case ok && now.Sub(c.at) < ttl:
			if c.found {
				out[k] = c.list
			}
		case !slices.Contains(missing, k):
			missing = append(missing, k)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := s.Store.Popular(ctx, missing)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = map[recommendations.PopularKey]cachedList{}
	}
	for _, k := range missing {
		l, found := got[k]
		s.cache[k] = cachedList{list: l, found: found, at: now}
		if found {
			out[k] = l
		}
	}
	return out, nil
}

// Input turns a customer's aggregates into the scorer's input (history,
// purchases, cart and category affinity), as of now.
func Input(agg *customers.Aggregates, now time.Time) recommendations.Input {
	in := recommendations.Input{Now: now, CategoryAffinity: map[string]float64{}}
	for _, r := range agg.Recent {
		in.Recent = append(in.Recent, recommendations.Event{ItemID: r.ItemID, Type: recommendations.EventType(r.Type), Time: r.Time})
	}
	for _, id := range slices.Sorted(maps.Keys(agg.Purchased)) {
		p := agg.Purchased[id]
		in.Purchases = append(in.Purchases, recommendations.PurchaseSummary{ItemID: id, Count: int(p.Count), Last: p.Last})
	}
	in.InCart = InCart(agg.Recent)
	for c, w := range agg.TopCategories() {
		in.CategoryAffinity[c] = float64(w)
	}
	return in
}

// InCart lists the items whose latest cart-changing interaction in recent
// is add_to_cart: added and neither removed nor bought since. recent is
// the customer record's bounded list, so an item carted long ago and
// never touched again may have dropped out of it.
func InCart(recent []customers.Interaction) []string {
	sorted := slices.Clone(recent)
	slices.SortStableFunc(sorted, func(a, b customers.Interaction) int {
		return cmp.Or(b.Time.Compare(a.Time), strings.Compare(b.EventID, a.EventID))
	})
	decided := map[string]bool{}
	var out []string
	for _, r := range sorted {
		switch r.Type {
		case events.AddToCart, events.RemoveFromCart, events.Purchase:
		default:
			continue
		}
		if decided[r.ItemID] {
			continue
		}
		decided[r.ItemID] = true
		if r.Type == events.AddToCart {
			out = append(out, r.ItemID)
		}
	}
	slices.Sort(out)
	return out
}

// historyItems picks the customer's MaxHistory most recently touched items
// (recent interactions and purchases) whose neighbour lists are read, and
// among them the purchased ones whose catalogue rows are read with them
// (buy-again candidates; none in discover mode).
func historyItems(in recommendations.Input, mode recommendations.Mode) (hist, buyAgain []string) {
	last := map[string]time.Time{}
	touch := func(id string, t time.Time) {
		if t.After(last[id]) || last[id].IsZero() {
			last[id] = t
		}
	}
	for _, e := range in.Recent {
		touch(e.ItemID, e.Time)
	}
	bought := map[string]bool{}
	for _, p := range in.Purchases {
		touch(p.ItemID, p.Last)
		bought[p.ItemID] = true
	}
	hist = slices.SortedFunc(maps.Keys(last), func(a, b string) int {
		return cmp.Or(last[b].Compare(last[a]), strings.Compare(a, b))
	})
	if len(hist) > MaxHistory {
		hist = hist[:MaxHistory]
	}
	if mode != recommendations.Discover {
		for _, id := range hist {
			if bought[id] {
				buyAgain = append(buyAgain, id)
			}
		}
	}
	return hist, buyAgain
}

// topCategories returns up to n categories of highest affinity.
func topCategories(aff map[string]float64, n int) []string {
	cats := slices.SortedFunc(maps.Keys(aff), func(a, b string) int {
		return cmp.Or(cmp.Compare(aff[b], aff[a]), strings.Compare(a, b))
	})
	cats = slices.DeleteFunc(cats, func(c string) bool { return aff[c] <= 0 })
	return cats[:min(n, len(cats))]
}

// shortlistSize is how many items the first pass keeps for a list of
// limit: room for the diversity pass and for items the live rows turn
// down (out of stock, repriced), within one BatchGetItem.
func shortlistSize(limit int) int { return min(maxShortlist, 2*limit+10) }

// overlay returns trained attributes with the live rows laid over them.
func overlay(trained map[string]recommendations.Item, live map[string]catalog.Item) map[string]recommendations.Item {
	out := make(map[string]recommendations.Item, len(trained)+len(live))
	maps.Copy(out, trained)
	for id, it := range live {
		out[id] = recommendations.CatalogItem(it)
	}
	return out
}

func recoItems(live map[string]catalog.Item) map[string]recommendations.Item {
	out := make(map[string]recommendations.Item, len(live))
	for id, it := range live {
		out[id] = recommendations.CatalogItem(it)
	}
	return out
}

// consentWithdrawn reports whether the customer has said no to
// personalization: only an explicit no turns it off.
func consentWithdrawn(c map[string]customers.ConsentState) bool {
	s, ok := c[customers.ConsentPersonalization]
	return ok && !s.Granted
}

func answer(it catalog.Item, r recommendations.Recommendation) Item {
	cat := it.Category
	if cat == nil {
		cat = []string{}
	}
	return Item{ItemID: it.ID, Title: it.Title, Category: cat, Brand: it.Brand, Price: money.Format(it.PriceMinor, it.Currency),
		Currency: it.Currency, Score: recommendations.Round6(r.Score), Backfill: r.Backfill, Reason: r.Reason}
}

// withBackfill is the serving window's global popular list followed by the
// items of the year-long list it lacks, best first within each.
func withBackfill(popular map[recommendations.PopularKey]recommendations.Popular) []recommendations.ScoredItem {
	serving := popular[recommendations.PopularKey{WindowDays: ServingWindow}].Items
	out := slices.Clone(serving)
	seen := make(map[string]bool, len(serving))
	for _, p := range serving {
		seen[p.ItemID] = true
	}
	for _, p := range popular[recommendations.PopularKey{WindowDays: BackfillWindow}].Items {
		if !seen[p.ItemID] {
			out = append(out, p)
		}
	}
	return out
}
