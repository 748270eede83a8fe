// Package service answers the recommendation requests: a customer's
// personalized list, items similar to an item, and popular items. It
// holds no HTTP concerns and no scoring rules of its own: it ranks with
// package recommendations' scorer.
//
// The trained model (neighbour lists, popularity lists) and the catalogue
// are held in memory per execution environment, as a
// recommendations.Index built from the newest snapshot the train job
// wrote. A request reads at most one item from storage: the customer
// record (one strongly consistent GetItem), for personalized lists and for
// similar items that exclude a customer's purchases. Similar and popular
// requests read nothing else.
//
// Two reads keep the index current, each at most once per interval per
// execution environment, on the request that finds the interval passed:
//
//   - every CheckEvery (60 s by default) the newest snapshot's reference
//     (one GetItem); a newer snapshot is loaded and swapped in;
//   - every RefreshEvery (30 s by default) the catalogue change feed since
//     the last change seen, less ChangeOverlap (a Query per feed shard);
//     changed, new and deleted items are laid over the index.
//
// So an item put out of stock through the catalogue API stops being
// served within RefreshEvery plus the change feed's index propagation
// (typically well under a second): 60 s is the documented bound with the
// default 30 s.
package service

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
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
// concurrent use.
type Store interface {
	// Shopper reads the customer's aggregates and consent, strongly
	// consistent (an event ingested a moment ago counts). A customer
	// without a record is a NotFound error.
	Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error)
	// LatestSnapshot returns the reference of the newest stored snapshot;
	// ok is false before the first training run.
	LatestSnapshot(ctx context.Context) (ref recommendations.SnapshotRef, ok bool, err error)
	// LoadSnapshot reads the bytes of a stored snapshot.
	LoadSnapshot(ctx context.Context, ref recommendations.SnapshotRef) ([]byte, error)
	// CatalogChanges returns the catalogue rows written at or after since,
	// deleted items as tombstones (Deleted set), each with its ChangedAt.
	CatalogChanges(ctx context.Context, since time.Time) ([]catalog.Item, error)
	// TrainingRuns returns at most limit training run records, the latest
	// as_of first.
	TrainingRuns(ctx context.Context, limit int) ([]recommendations.Run, error)
}

// Limits of a request.
const (
	// MaxLimit is the longest list a request may ask for.
	MaxLimit = 50
	// DefaultLimit is the list length when the request names none.
	DefaultLimit = 10
	// ServingWindow is the popularity window (days) used for fallback and
	// backfill of personalized and similar-item lists.
	ServingWindow = 30
	// BackfillWindow is the year-long popularity list appended after the
	// serving one, so a shop with no events in the serving window still
	// gets full lists rather than empty ones.
	BackfillWindow = 365
)

// Defaults of the index's refresh intervals.
const (
	DefaultCheckEvery    = 60 * time.Second
	DefaultRefreshEvery  = 30 * time.Second
	DefaultChangeOverlap = 10 * time.Second
)

// Windows are the popularity windows GET /v1/popular offers, in days.
var Windows = []int{1, 7, 30}

// Service answers recommendation requests. Safe for concurrent use.
type Service struct {
	Store  Store
	Scorer recommendations.Scorer
	Now    func() time.Time
	Log    *slog.Logger
	// CheckEvery is how often the newest snapshot's reference is read;
	// RefreshEvery how often the catalogue change feed is; ChangeOverlap
	// how far before the newest change seen the feed is read again, to
	// take in rows whose index entry arrived late or whose writer's clock
	// lagged. Zero means the Default values.
	CheckEvery, RefreshEvery, ChangeOverlap time.Duration

	mu        sync.Mutex
	cur       *served
	ref       recommendations.SnapshotRef
	checked   time.Time
	refreshed time.Time
}

// served is the index with the popularity lists a request reads prepared.
type served struct {
	idx *recommendations.Index
	// popular is the serving window's list followed by the year-long
	// list's other items; byCategory the serving window's lists per
	// top-level category.
	popular    []recommendations.ScoredItem
	byCategory map[string][]recommendations.ScoredItem
}

func newServed(idx *recommendations.Index) *served {
	s := &served{idx: idx, byCategory: map[string][]recommendations.ScoredItem{}}
	serving := idx.Popular[recommendations.PopularKey{WindowDays: ServingWindow}]
	s.popular = slices.Clone(serving)
	seen := make(map[string]bool, len(serving))
	for _, p := range serving {
		seen[p.ItemID] = true
	}
	for _, p := range idx.Popular[recommendations.PopularKey{WindowDays: BackfillWindow}] {
		if !seen[p.ItemID] {
			s.popular = append(s.popular, p)
		}
	}
	for k, l := range idx.Popular {
		if k.WindowDays == ServingWindow && k.Category != "" {
			s.byCategory[k.Category] = l
		}
	}
	return s
}

// Warm loads the index now, so that the first request does not pay for
// it: the recommend function calls it at cold start.
func (s *Service) Warm(ctx context.Context) error {
	_, err := s.index(ctx)
	return err
}

// Snapshot returns the reference of the snapshot being served; zero
// before one is loaded.
func (s *Service) Snapshot() recommendations.SnapshotRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ref
}

// Runs is the answer of GET /v1/recommendations/runs: the latest training
// runs and the snapshot this instance serves.
type Runs struct {
	Runs    []recommendations.Run        `json:"runs"`
	Serving *recommendations.SnapshotRef `json:"serving"`
}

// TrainingRuns lists at most limit training runs, the latest first, with
// the snapshot being served (null before the first training run).
func (s *Service) TrainingRuns(ctx context.Context, limit int) (Runs, error) {
	runs, err := s.Store.TrainingRuns(ctx, limit)
	if err != nil {
		return Runs{}, err
	}
	out := Runs{Runs: runs}
	if out.Runs == nil {
		out.Runs = []recommendations.Run{}
	}
	if _, err := s.index(ctx); err != nil {
		return Runs{}, err
	}
	if ref := s.Snapshot(); !ref.AsOf.IsZero() {
		out.Serving = &ref
	}
	return out, nil
}

// index returns the current index, reading the snapshot reference and the
// change feed first when their intervals have passed. Once an index is
// held, a failed refresh is logged and the held index served: a storage
// hiccup costs freshness, not availability.
func (s *Service) index(ctx context.Context) (*served, error) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || now.Sub(s.checked) >= cmp.Or(s.CheckEvery, DefaultCheckEvery) {
		if err := s.check(ctx); err != nil {
			if s.cur == nil {
				return nil, err
			}
			s.log().WarnContext(ctx, "snapshot check failed; serving the one held", "asOf", s.ref.AsOf, "error", err.Error())
		}
		s.checked = now
	}
	if now.Sub(s.refreshed) >= cmp.Or(s.RefreshEvery, DefaultRefreshEvery) {
		since := s.cur.idx.ChangedAt.Add(-cmp.Or(s.ChangeOverlap, DefaultChangeOverlap))
		changes, err := s.Store.CatalogChanges(ctx, since)
		if err != nil {
			if s.refreshed.IsZero() {
				return nil, err
			}
			s.log().WarnContext(ctx, "catalogue refresh failed; serving the catalogue held", "since", since, "error", err.Error())
		} else {
			if idx := s.cur.idx.Apply(changes); idx != s.cur.idx {
				s.cur = newServed(idx)
			}
		}
		s.refreshed = now
	}
	return s.cur, nil
}

// check reads the newest snapshot's reference and loads the snapshot when
// it is not the one held. Before any training run the index is empty and
// the change feed (read from the beginning) supplies the catalogue.
func (s *Service) check(ctx context.Context) error {
	ref, ok, err := s.Store.LatestSnapshot(ctx)
	if err != nil {
		return err
	}
	if !ok {
		if s.cur == nil {
			s.cur = newServed(recommendations.NewIndex(&recommendations.Snapshot{Models: map[string]recommendations.ItemModel{}}))
		}
		return nil
	}
	if s.cur != nil && ref == s.ref {
		return nil
	}
	start := time.Now()
	data, err := s.Store.LoadSnapshot(ctx, ref)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ref.SHA256 {
		return fmt.Errorf("snapshot %s: checksum mismatch", ref.AsOf.Format(time.RFC3339))
	}
	snap, err := recommendations.UnmarshalSnapshot(data)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", ref.AsOf.Format(time.RFC3339), err)
	}
	s.cur, s.ref, s.refreshed = newServed(recommendations.NewIndex(snap)), ref, time.Time{}
	s.log().InfoContext(ctx, "snapshot loaded", "asOf", ref.AsOf, "bytes", ref.Bytes, "items", len(snap.Catalog),
		"lists", len(snap.Models), "loadMs", time.Since(start).Milliseconds())
	return nil
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
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
	cur, err := s.index(ctx)
	if err != nil {
		return out, err
	}
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
	in := Input(agg, s.Now())
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
	in.ItemModels = cur.idx.Snapshot.Models
	in.Items = cur.idx.Items
	in.Order = cur.idx.Order
	in.Popular = cur.popular
	in.PopularByCategory = cur.byCategory
	for _, r := range s.Scorer.Score(in, opt) {
		out.Items = append(out.Items, answer(cur.idx.Live[r.ItemID], r))
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
	cur, err := s.index(ctx)
	if err != nil {
		return out, err
	}
	target, ok := cur.idx.Live[q.ItemID]
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
	// The attribute fallback looks at the popular items of the target's
	// category, then of the whole catalogue.
	var pool []recommendations.Item
	add := func(l []recommendations.ScoredItem) {
		for _, p := range l {
			if it, ok := cur.idx.Items[p.ItemID]; ok {
				pool = append(pool, it)
			}
		}
	}
	add(cur.byCategory[target.TopCategory()])
	add(cur.popular)
	in := recommendations.SimilarInput{Item: recommendations.CatalogItem(target), Neighbours: cur.idx.Snapshot.Models[q.ItemID].Neighbours,
		Items: cur.idx.Items, Pool: pool, Purchased: purchased}
	for _, r := range s.Scorer.Similar(in, opt) {
		out.Items = append(out.Items, answer(cur.idx.Live[r.ItemID], r))
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
	cur, err := s.index(ctx)
	if err != nil {
		return out, err
	}
	l, ok := cur.idx.Popular[recommendations.PopularKey{WindowDays: q.WindowDays, Category: recommendations.TopCategory(q.Category)}]
	if !ok {
		return out, nil
	}
	asOf := cur.idx.Snapshot.AsOf
	out.AsOf = &asOf
	for _, p := range l {
		it, ok := cur.idx.Live[p.ItemID]
		if !ok || !it.InStock || !recommendations.UnderCategory(strings.Join(it.Category, "/"), q.Category) {
			continue
		}
		out.Items = append(out.Items, answer(it, recommendations.Recommendation{ItemID: p.ItemID, Score: p.Score}))
		if len(out.Items) == q.Limit {
			break
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
