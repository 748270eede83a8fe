package memory

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"tailor/shared/events"
)

// Carts is the in-memory twin of the pending carts (dynamo.Carts): carts
// by customer with versions, and the customers' marketing consents. The
// zero value is empty; it is safe for concurrent use.
type Carts struct {
	mu      sync.Mutex
	carts   map[string]events.Cart
	consent map[string][]string
}

func copyCart(c events.Cart) events.Cart {
	c.Items = maps.Clone(c.Items)
	return c
}

// UpdateCart applies update to the customer's cart and stores the result.
func (s *Carts) UpdateCart(ctx context.Context, customerID string, update func(c *events.Cart) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.carts[customerID]
	if !ok {
		c = events.Cart{CustomerID: customerID}
	}
	c = copyCart(c)
	if !update(&c) {
		return nil
	}
	if c.Empty() {
		delete(s.carts, customerID)
		return nil
	}
	c.Version++
	if s.carts == nil {
		s.carts = map[string]events.Cart{}
	}
	s.carts[customerID] = c
	return nil
}

// DueCarts returns the carts started at or before startedBy, by customer.
func (s *Carts) DueCarts(ctx context.Context, startedBy time.Time) ([]events.Cart, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.Cart
	for _, id := range slices.Sorted(maps.Keys(s.carts)) {
		if c := s.carts[id]; !c.Started.After(startedBy) {
			out = append(out, copyCart(c))
		}
	}
	return out, nil
}

// DeleteCart deletes the cart if it is still the version read.
func (s *Carts) DeleteCart(ctx context.Context, c events.Cart) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if have, ok := s.carts[c.CustomerID]; !ok || have.Version != c.Version {
		return false, nil
	}
	delete(s.carts, c.CustomerID)
	return true, nil
}

// Cart returns the customer's pending cart, if any.
func (s *Carts) Cart(customerID string) (events.Cart, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.carts[customerID]
	return copyCart(c), ok
}

// SetChannels records the marketing channels a customer has granted
// (none for a customer without consent); a customer never set does not
// exist.
func (s *Carts) SetChannels(customerID string, channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.consent == nil {
		s.consent = map[string][]string{}
	}
	s.consent[customerID] = append([]string{}, channels...)
}

// Erase removes the customer and its cart, as erasure does.
func (s *Carts) Erase(customerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.consent, customerID)
	delete(s.carts, customerID)
}

// MarketingChannels returns the channels the customer has granted.
func (s *Carts) MarketingChannels(ctx context.Context, customerID string) ([]string, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.consent[customerID]
	return slices.Clone(ch), ok, nil
}
