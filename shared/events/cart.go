package events

import (
	"maps"
	"slices"
	"strconv"
	"time"
)

// DefaultAbandonDelay is how long an item may sit in a cart without being
// bought before the cart counts as abandoned.
const DefaultAbandonDelay = 4 * time.Hour

// Cart is a customer's pending cart: the items added and not bought since,
// each with the time of its first add_to_cart. It exists from the first
// add until every item is bought or removed, or until it is announced as
// abandoned; a later add starts a new cart.
type Cart struct {
	CustomerID string
	// Items holds each item's first add time.
	Items map[string]time.Time
	// Started is the first add of the cart: with the customer it names
	// the cart (CartID), and the cart is abandoned a delay after it.
	Started time.Time
	// Version counts the stored cart's writes, so that storage replaces or
	// deletes only the version it read.
	Version int64
}

// Apply folds a customer's events into the cart and reports whether it
// changed. In time order: an add_to_cart adds its item (the first add
// time is kept), and a purchase or a remove_from_cart of an item at or
// after its add takes it out. An empty cart has no start.
func (c *Cart) Apply(evs []Event) bool {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b Event) int { return a.Time.Compare(b.Time) })
	changed := false
	for _, e := range sorted {
		if e.ItemID == "" {
			continue
		}
		added, in := c.Items[e.ItemID]
		switch e.Type {
		case AddToCart:
			if in && !e.Time.Before(added) {
				continue
			}
			if c.Items == nil {
				c.Items = map[string]time.Time{}
			}
			c.Items[e.ItemID] = e.Time.UTC()
			if c.Started.IsZero() || e.Time.Before(c.Started) {
				c.Started = e.Time.UTC()
			}
			changed = true
		case Purchase, RemoveFromCart:
			if in && !e.Time.Before(added) {
				delete(c.Items, e.ItemID)
				changed = true
			}
		}
	}
	if len(c.Items) == 0 {
		c.Started = time.Time{}
	}
	return changed
}

// Empty reports whether the cart holds no item.
func (c *Cart) Empty() bool { return len(c.Items) == 0 }

// AbandonedAt is when the cart counts as abandoned: delay after its start.
func (c *Cart) AbandonedAt(delay time.Duration) time.Time { return c.Started.Add(delay) }

// ItemIDs returns the cart's items in id order.
func (c *Cart) ItemIDs() []string { return slices.Sorted(maps.Keys(c.Items)) }

// CartID names a cart: the customer and the Unix second of its start, so
// the same cart always has the same id.
func (c *Cart) CartID() string {
	return c.CustomerID + ":" + strconv.FormatInt(c.Started.Unix(), 10)
}

// CartEvents reports whether evs hold any event that can change a cart.
func CartEvents(evs []Event) bool {
	for _, e := range evs {
		switch e.Type {
		case AddToCart, Purchase, RemoveFromCart:
			if e.ItemID != "" {
				return true
			}
		}
	}
	return false
}
