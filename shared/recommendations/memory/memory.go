// Package memory is the in-memory twin of package dynamo's recommender
// storage: the request side's ports (customer records, neighbour lists,
// catalogue rows, popularity lists) and the training job's (history,
// catalogue, list and run writes) over maps, with the same answers as
// DynamoDB, which the contract suite in package contract proves. Service
// and edge tests use it; no function links it.
package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/recommendations"
)

// Store holds a shop's customer records, catalogue, history, trained lists
// and run records. The zero value is not ready; use New. Safe for
// concurrent use.
type Store struct {
	mu         sync.RWMutex
	shoppers   map[string]recommendations.Shopper
	items      map[string]catalog.Item
	history    []recommendations.Interaction
	neighbours map[string]neighbourList
	popular    map[recommendations.PopularKey]recommendations.Popular
	runs       map[string]recommendations.Run
}

// neighbourList is an item's stored model: scores rounded as stored, the
// training-time attributes of the item and of each neighbour.
type neighbourList struct {
	model   recommendations.ItemModel
	self    recommendations.Item
	trained []recommendations.Item // one per neighbour, in order
}

// New returns an empty store.
func New() *Store {
	return &Store{shoppers: map[string]recommendations.Shopper{}, items: map[string]catalog.Item{},
		neighbours: map[string]neighbourList{}, popular: map[recommendations.PopularKey]recommendations.Popular{},
		runs: map[string]recommendations.Run{}}
}

// PutShopper creates or replaces a customer record's aggregates and
// consent, as ingestion and the customers API write them.
func (s *Store) PutShopper(ctx context.Context, customerID string, sh recommendations.Shopper) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shoppers[customerID] = cloneShopper(sh)
	return nil
}

// PutItem creates or replaces a catalogue row.
func (s *Store) PutItem(ctx context.Context, it catalog.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[it.ID] = cloneItem(it)
	return nil
}

// DeleteItem removes a catalogue row; a missing one is not an error.
func (s *Store) DeleteItem(ctx context.Context, itemID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, itemID)
	return nil
}

// AddHistory appends history entries as ingestion stores them. Each
// entry's CustomerID is its owner key as the history is keyed
// (C#<customer_id> or N#<anonymous_id>); Weight is not stored.
func (s *Store) AddHistory(ctx context.Context, ins ...recommendations.Interaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range ins {
		s.history = append(s.history, recommendations.Interaction{CustomerID: in.CustomerID, ItemID: in.ItemID, Type: in.Type,
			Time: in.Time.UTC(), Quantity: in.Quantity})
	}
	return nil
}

// Runs returns the stored training run records, oldest as_of first.
func (s *Store) Runs(ctx context.Context) ([]recommendations.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.SortedFunc(maps.Values(s.runs), func(a, b recommendations.Run) int { return a.AsOf.Compare(b.AsOf) }), nil
}

// Shopper returns a copy of the customer's aggregates and consent; empty
// aggregates when the record has none. A customer without a record is a
// NotFound error.
func (s *Store) Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error) {
	op := "read customer " + customerID
	if err := ctx.Err(); err != nil {
		return recommendations.Shopper{}, fmt.Errorf("%s: %w", op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sh, ok := s.shoppers[customerID]
	if !ok {
		return recommendations.Shopper{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	return cloneShopper(sh), nil
}

// Lists returns the neighbour lists of the items in lists and the
// catalogue rows of the items in live; missing ones are absent.
func (s *Store) Lists(ctx context.Context, lists, live []string) (recommendations.Lists, error) {
	out := recommendations.NewLists()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range lists {
		l, ok := s.neighbours[id]
		if !ok {
			continue
		}
		m := l.model
		m.Neighbours = slices.Clone(m.Neighbours)
		out.Models[id] = m
		for _, t := range l.trained {
			if _, ok := out.Trained[t.ItemID]; !ok {
				out.Trained[t.ItemID] = t
			}
		}
	}
	for _, id := range lists {
		if l, ok := s.neighbours[id]; ok {
			out.Trained[id] = l.self
		}
	}
	for _, id := range live {
		if it, ok := s.items[id]; ok {
			out.Live[id] = cloneItem(it)
		}
	}
	return out, nil
}

// Live returns the catalogue rows of ids; missing ones are absent.
func (s *Store) Live(ctx context.Context, ids []string) (map[string]catalog.Item, error) {
	l, err := s.Lists(ctx, nil, ids)
	return l.Live, err
}

// Popular returns the popularity lists named by keys; lists that do not
// exist are absent.
func (s *Store) Popular(ctx context.Context, keys []recommendations.PopularKey) (map[recommendations.PopularKey]recommendations.Popular, error) {
	out := make(map[recommendations.PopularKey]recommendations.Popular, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range keys {
		if p, ok := s.popular[k]; ok {
			out[k] = recommendations.Popular{Items: slices.Clone(p.Items), Attrs: maps.Clone(p.Attrs), AsOf: p.AsOf}
		}
	}
	return out, nil
}

// Interactions returns every history entry that names an item.
func (s *Store) Interactions(ctx context.Context) ([]recommendations.Interaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]recommendations.Interaction, 0, len(s.history))
	for _, in := range s.history {
		if in.ItemID != "" {
			out = append(out, in)
		}
	}
	return out, nil
}

// Catalog returns the attributes of every catalogue item and the sorted
// ids of the items that have a neighbour list.
func (s *Store) Catalog(ctx context.Context) (map[string]recommendations.Item, []string, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	attrs := make(map[string]recommendations.Item, len(s.items))
	for id, it := range s.items {
		attrs[id] = recommendations.CatalogItem(it)
	}
	return attrs, slices.Sorted(maps.Keys(s.neighbours)), nil
}

// WriteNeighbours replaces the neighbour list of every item of the model,
// deletes the lists of the items in stale that the model lacks, and
// returns the number of neighbour pairs written.
func (s *Store) WriteNeighbours(ctx context.Context, m *recommendations.Model, attrs map[string]recommendations.Item, stale []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pairs := 0
	for id, im := range m.Items {
		l := neighbourList{model: recommendations.ItemModel{ItemID: id, RepeatRate: recommendations.Round6(im.RepeatRate),
			Customers: im.Customers, Neighbours: make([]recommendations.Neighbour, 0, len(im.Neighbours))},
			self: recommendations.TrainedItem(id, attrs)}
		for _, nb := range im.Neighbours {
			l.model.Neighbours = append(l.model.Neighbours, recommendations.Neighbour{ItemID: nb.ItemID, Score: recommendations.Round6(nb.Score)})
			l.trained = append(l.trained, recommendations.TrainedItem(nb.ItemID, attrs))
		}
		pairs += len(im.Neighbours)
		s.neighbours[id] = l
	}
	for _, id := range stale {
		if _, kept := m.Items[id]; !kept {
			delete(s.neighbours, id)
		}
	}
	return pairs, nil
}

// WritePopular writes every list of lists and deletes the stored lists of
// the same windows that lists lacks.
func (s *Store) WritePopular(ctx context.Context, lists []recommendations.PopularList, attrs map[string]recommendations.Item, asOf time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	written := map[recommendations.PopularKey]bool{}
	windows := map[int]bool{}
	for _, l := range lists {
		p := recommendations.Popular{Items: make([]recommendations.ScoredItem, 0, len(l.Items)),
			Attrs: make(map[string]recommendations.Item, len(l.Items)), AsOf: asOf.UTC()}
		for _, it := range l.Items {
			p.Items = append(p.Items, recommendations.ScoredItem{ItemID: it.ItemID, Score: recommendations.Round6(it.Score)})
			p.Attrs[it.ItemID] = recommendations.TrainedItem(it.ItemID, attrs)
		}
		k := recommendations.PopularKey{WindowDays: l.WindowDays, Category: l.Category}
		s.popular[k] = p
		written[k], windows[l.WindowDays] = true, true
	}
	for k := range s.popular {
		if windows[k.WindowDays] && !written[k] {
			delete(s.popular, k)
		}
	}
	return nil
}

// PutRun stores the run record with DurationMS from Duration, replacing
// the one with the same as_of (to the second).
func (s *Store) PutRun(ctx context.Context, r recommendations.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.DurationMS, r.Duration = r.Duration.Milliseconds(), 0
	s.runs[r.AsOf.UTC().Format(time.RFC3339)] = r
	return nil
}

func cloneShopper(sh recommendations.Shopper) recommendations.Shopper {
	agg := sh.Aggregates
	if agg == nil {
		agg = customers.NewAggregates()
	}
	return recommendations.Shopper{Aggregates: agg.Clone(), Consent: maps.Clone(sh.Consent)}
}

func cloneItem(it catalog.Item) catalog.Item {
	it.Category, it.Tags = slices.Clone(it.Category), slices.Clone(it.Tags)
	return it
}
