// Package service is what the catalog's requests do: create or replace
// one item, read and delete it, and write a batch of up to
// catalog.MaxBatch items with an outcome for every entry. It applies the
// rules of package catalog and stores items through the Items port it
// declares; it knows nothing of HTTP or DynamoDB.
package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/platform/errs"
)

// Items stores catalog items. Implementations must be safe for concurrent
// use.
type Items interface {
	// Get returns the item, or an errs.NotFound error.
	Get(ctx context.Context, itemID string) (catalog.Item, error)
	// Put creates or replaces the item, keeping the CreatedAt of an
	// existing one, and returns the stored item and whether it was new.
	// An item whose content (catalog.Item.ContentHash) equals the stored
	// one's is not written: the stored item comes back, with its own
	// UpdatedAt.
	Put(ctx context.Context, it catalog.Item) (catalog.Item, bool, error)
	// Delete removes the item as of at, the time the change feed reports
	// for it; a missing item is an errs.NotFound error.
	Delete(ctx context.Context, itemID string, at time.Time) error
}

// batchWorkers bounds concurrent writes of one batch, keeping a 1000-item
// batch well inside the function timeout without bursting the table.
const batchWorkers = 16

// Service serves the catalog.
type Service struct {
	Items Items
	Now   func() time.Time
}

// Get returns the item, or an errs.NotFound error.
func (s *Service) Get(ctx context.Context, itemID string) (catalog.Item, error) {
	return s.Items.Get(ctx, itemID)
}

// Put validates in and creates or replaces the item itemID. It returns the
// stored item (with the CreatedAt of an existing one) and whether it was
// new; an invalid input is an errs.Invalid error and stores nothing.
func (s *Service) Put(ctx context.Context, itemID string, in catalog.Input) (catalog.Item, bool, error) {
	it, err := catalog.New(itemID, in, s.Now().UTC(), "")
	if err != nil {
		return catalog.Item{}, false, err
	}
	return s.Items.Put(ctx, it)
}

// Delete removes the item; a missing item is an errs.NotFound error.
func (s *Service) Delete(ctx context.Context, itemID string) error {
	return s.Items.Delete(ctx, itemID, s.Now().UTC())
}

// Status is what happened to one entry of a batch.
type Status string

// The statuses of a batch entry.
const (
	Created Status = "created"
	Updated Status = "updated"
	// Unchanged: the item was stored before with the same content; nothing
	// was written.
	Unchanged Status = "unchanged"
	Rejected  Status = "rejected" // invalid, or repeating an earlier entry's id; not stored
	Failed    Status = "failed"   // valid, but the write failed; can be sent again as it is
)

// Outcome is what happened to one entry of a batch.
type Outcome struct {
	Index  int
	ItemID string
	Status Status
	// Err says why the entry was Rejected (an errs.Invalid error naming
	// fields "items[<index>].<field>") or Failed (the storage error).
	Err error
}

// BatchResult reports every entry of a batch, in request order, and how
// many ended in each status.
type BatchResult struct {
	Created, Updated, Unchanged, Rejected, Failed int
	Outcomes                                      []Outcome
}

// Batch validates every entry and writes the valid ones concurrently. An
// invalid entry, or one whose id an earlier valid entry already holds, is
// Rejected and never stops the others; a failed write marks its entry
// Failed. The batch itself is refused only when it is empty (errs.Invalid)
// or holds more than catalog.MaxBatch entries (errs.TooLarge).
func (s *Service) Batch(ctx context.Context, entries []catalog.BatchInput) (BatchResult, error) {
	switch {
	case len(entries) == 0:
		var v errs.Validator
		v.Add("items", "must hold 1 to %d items", catalog.MaxBatch)
		return BatchResult{}, v.Err()
	case len(entries) > catalog.MaxBatch:
		return BatchResult{}, errs.E(errs.TooLarge, fmt.Sprintf("a batch holds at most %d items; got %d", catalog.MaxBatch, len(entries)))
	}
	now := s.Now().UTC()
	out := BatchResult{Outcomes: make([]Outcome, len(entries))}
	valid := make([]catalog.Item, len(entries))
	ok := make([]bool, len(entries))
	seen := map[string]int{}
	for i, in := range entries {
		res := &out.Outcomes[i]
		res.Index, res.ItemID = i, in.ItemID
		it, err := catalog.New(in.ItemID, in.Input, now, fmt.Sprintf("items[%d].", i))
		if first, dup := seen[in.ItemID]; dup && err == nil {
			err = errs.E(errs.Invalid, fmt.Sprintf("item_id repeats entry %d of this batch", first))
		}
		if err != nil {
			res.Status, res.Err = Rejected, err
			continue
		}
		seen[in.ItemID] = i
		valid[i], ok[i] = it, true
	}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range batchWorkers {
		wg.Go(func() {
			for i := range jobs {
				stored, created, err := s.Items.Put(ctx, valid[i])
				res := &out.Outcomes[i]
				switch {
				case err != nil:
					res.Status, res.Err = Failed, err
				case created:
					res.Status = Created
				case !stored.UpdatedAt.Equal(valid[i].UpdatedAt):
					res.Status = Unchanged
				default:
					res.Status = Updated
				}
			}
		})
	}
	for i := range entries {
		if ok[i] {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()
	for _, res := range out.Outcomes {
		switch res.Status {
		case Created:
			out.Created++
		case Updated:
			out.Updated++
		case Unchanged:
			out.Unchanged++
		case Rejected:
			out.Rejected++
		case Failed:
			out.Failed++
		}
	}
	return out, nil
}
