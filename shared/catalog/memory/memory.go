// Package memory keeps catalog items in memory, with the semantics of
// package dynamo (the contract suite in package contract holds both to
// them). It is for tests and local runs; nothing is persisted.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/platform/errs"
)

// Items is the catalog table in memory. The zero value is empty and ready;
// it is safe for concurrent use.
type Items struct {
	mu    sync.Mutex
	items map[string]catalog.Item
}

// Get returns the item, or a NotFound error.
func (s *Items) Get(_ context.Context, itemID string) (catalog.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[itemID]
	if !ok || it.Deleted {
		return catalog.Item{}, notFound("get item", itemID)
	}
	it = clone(it)
	if it.Tags == nil {
		it.Tags = []string{}
	}
	return it, nil
}

// Put creates or replaces the item, keeping the CreatedAt of an existing
// item, and returns the stored item and whether it was new. Over a
// tombstone it creates the item afresh.
func (s *Items) Put(_ context.Context, it catalog.Item) (catalog.Item, bool, error) {
	it = clone(it)
	it.Deleted = false
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = map[string]catalog.Item{}
	}
	old, exists := s.items[it.ID]
	if !exists || old.Deleted {
		s.items[it.ID] = it
		return clone(it), true, nil
	}
	// As in package dynamo: the same content changes nothing, and the
	// answer is the stored item.
	if old.ContentHash() == it.ContentHash() {
		return clone(old), false, nil
	}
	// As in package dynamo: the stored created_at is never overwritten, and
	// the answer carries it unless it is the zero time.
	stored := it
	stored.CreatedAt = old.CreatedAt
	s.items[it.ID] = stored
	if !old.CreatedAt.IsZero() {
		it.CreatedAt = old.CreatedAt
	}
	return clone(it), false, nil
}

// Delete turns the item into a tombstone deleted at at, as package dynamo
// does; a missing or already deleted item is a NotFound error.
func (s *Items) Delete(_ context.Context, itemID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[itemID]
	if !ok || it.Deleted {
		return notFound("delete item", itemID)
	}
	it.Deleted, it.ChangedAt = true, at
	s.items[itemID] = it
	return nil
}

func notFound(op, itemID string) error {
	return &errs.Error{Op: op + " " + itemID, Kind: errs.NotFound, Detail: fmt.Sprintf("item %s does not exist", itemID)}
}

// clone copies the item's slices, so neither the caller nor the store sees
// the other's later changes, and drops the clock readings DynamoDB does not
// store.
func clone(it catalog.Item) catalog.Item {
	it.Category = slices.Clone(it.Category)
	it.Tags = slices.Clone(it.Tags)
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.Round(0), it.UpdatedAt.Round(0)
	return it
}
