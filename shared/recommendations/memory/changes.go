package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"tailor/shared/catalog"
)

// CatalogChanges returns the catalogue rows changed at or after since (to
// the millisecond), deleted items as tombstones, each with its ChangedAt,
// oldest change first.
func (s *Store) CatalogChanges(ctx context.Context, since time.Time) ([]catalog.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	since = toMilli(since)
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []catalog.Item
	for _, it := range s.items {
		if !it.ChangedAt.Before(since) {
			out = append(out, cloneItem(it))
		}
	}
	sortChanges(out)
	return out, nil
}

func sortChanges(items []catalog.Item) {
	slices.SortFunc(items, func(a, b catalog.Item) int {
		return cmp.Or(a.ChangedAt.Compare(b.ChangedAt), cmp.Compare(a.ID, b.ID))
	})
}
