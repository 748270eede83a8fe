// Package memory is the in-memory twin of package dynamo's recommender
// storage: the request side's ports (customer records, the newest
// snapshot, the catalogue's change feed) and the training job's (customer
// histories, catalogue, snapshot and run writes) over maps, with the same
// answers as DynamoDB, which the contract suite in package contract
// proves. Service and edge tests use it; no function links it.
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
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
)

// Store holds a shop's customer records, catalogue, snapshots and run
// records. The zero value is not ready; use New. Safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	shoppers  map[string]recommendations.Shopper
	items     map[string]catalog.Item
	snapshots map[recommendations.SnapshotRef][]byte
	latest    *recommendations.SnapshotRef
	previous  *recommendations.SnapshotRef
	runs      map[string]recommendations.Run
}

// New returns an empty store.
func New() *Store {
	return &Store{shoppers: map[string]recommendations.Shopper{}, items: map[string]catalog.Item{},
		snapshots: map[recommendations.SnapshotRef][]byte{}, runs: map[string]recommendations.Run{}}
}

// PutShopper creates or replaces a customer record's aggregates and
// consent, as ingestion and the customers API write them.
func (s *Store) PutShopper(ctx context.Context, customerID string, sh recommendations.Shopper) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A record without aggregates stays without: it is no history.
	stored := recommendations.Shopper{Consent: maps.Clone(sh.Consent)}
	if sh.Aggregates != nil {
		stored.Aggregates = sh.Aggregates.Clone()
	}
	s.shoppers[customerID] = stored
	return nil
}

// PutItem creates or replaces a catalogue row as the catalogue API writes
// it, changed at its UpdatedAt.
func (s *Store) PutItem(ctx context.Context, it catalog.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it = cloneItem(it)
	it.ChangedAt = toMilli(it.UpdatedAt)
	s.items[it.ID] = it
	return nil
}

// TombstoneItem deletes a catalogue item as the catalogue API does: its
// row stays as a tombstone changed at at, which only CatalogChanges
// reports. A missing row is a NotFound error.
func (s *Store) TombstoneItem(ctx context.Context, itemID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[itemID]
	if !ok {
		return &errs.Error{Op: "delete item " + itemID, Kind: errs.NotFound, Detail: fmt.Sprintf("item %s does not exist", itemID)}
	}
	it.Deleted, it.ChangedAt = true, toMilli(at)
	s.items[itemID] = it
	return nil
}

// DeleteItem removes a catalogue row, as the TTL does once a tombstone
// expires; a missing one is not an error.
func (s *Store) DeleteItem(ctx context.Context, itemID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, itemID)
	return nil
}

// TrainingRuns returns at most limit training run records, the latest
// as_of first.
func (s *Store) TrainingRuns(ctx context.Context, limit int) ([]recommendations.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	runs := slices.SortedFunc(maps.Values(s.runs), func(a, b recommendations.Run) int { return b.AsOf.Compare(a.AsOf) })
	return runs[:min(limit, len(runs))], nil
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

// Histories returns what every customer record with aggregates holds for
// the recommender, keyed as the customers table keys records (C#<id>).
func (s *Store) Histories(ctx context.Context) ([]recommendations.History, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []recommendations.History
	for _, id := range slices.Sorted(maps.Keys(s.shoppers)) {
		agg := s.shoppers[id].Aggregates
		if agg == nil {
			continue
		}
		h := recommendations.History{CustomerID: schema.PfxCustomer + id}
		for _, e := range agg.Recent {
			h.Recent = append(h.Recent, recommendations.Event{ItemID: e.ItemID, Type: recommendations.EventType(e.Type), Time: e.Time})
		}
		for _, item := range slices.Sorted(maps.Keys(agg.Purchased)) {
			p := agg.Purchased[item]
			h.Purchases = append(h.Purchases, recommendations.PurchaseSummary{ItemID: item, Count: int(p.Count), Last: p.Last})
		}
		out = append(out, h)
	}
	return out, nil
}

// LiveCatalog returns every live catalogue row, by id.
func (s *Store) LiveCatalog(ctx context.Context) ([]catalog.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []catalog.Item
	for _, id := range slices.Sorted(maps.Keys(s.items)) {
		if it := s.items[id]; !it.Deleted {
			out = append(out, liveItem(it))
		}
	}
	return out, nil
}

// PutSnapshot stores the bytes, names them newest, keeps the one they
// replace as previous and forgets the one before.
func (s *Store) PutSnapshot(ctx context.Context, ref recommendations.SnapshotRef, data []byte) (recommendations.SnapshotRef, error) {
	if err := ctx.Err(); err != nil {
		return ref, err
	}
	ref.Chunks = max(1, (len(data)+recommendations.SnapshotChunkBytes-1)/recommendations.SnapshotChunkBytes)
	ref.AsOf = ref.AsOf.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snapshots[ref] = slices.Clone(data)
	if s.latest != nil && *s.latest != ref {
		if s.previous != nil && *s.previous != ref {
			delete(s.snapshots, *s.previous)
		}
		prev := *s.latest
		s.previous = &prev
	}
	s.latest = &ref
	return ref, nil
}

// LatestSnapshot returns the newest snapshot's reference.
func (s *Store) LatestSnapshot(ctx context.Context) (recommendations.SnapshotRef, bool, error) {
	if err := ctx.Err(); err != nil {
		return recommendations.SnapshotRef{}, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.latest == nil {
		return recommendations.SnapshotRef{}, false, nil
	}
	return *s.latest, true, nil
}

// LoadSnapshot returns a copy of a stored snapshot's bytes; one no longer
// kept is an error.
func (s *Store) LoadSnapshot(ctx context.Context, ref recommendations.SnapshotRef) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	data, ok := s.snapshots[ref]
	if !ok {
		return nil, fmt.Errorf("load snapshot %s: not stored", ref.AsOf.Format(time.RFC3339))
	}
	return slices.Clone(data), nil
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

// liveItem is a copy of a live row as reads other than the change feed
// return it: without its change time.
func liveItem(it catalog.Item) catalog.Item {
	it = cloneItem(it)
	it.ChangedAt = time.Time{}
	return it
}

// toMilli is t to the millisecond, as DynamoDB keeps change times.
func toMilli(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
