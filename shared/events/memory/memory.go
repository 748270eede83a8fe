// Package memory is the in-memory twin of the events DynamoDB adapter:
// Events (owners' histories, which are their de-duplication records,
// aggregates and aliases) and History (a customer's history, page by page),
// with the same exactly-once, all-or-nothing, alias and TTL rules and the
// same error kinds, which the contract suite in package contract proves.
// It serves tests and local runs; no function links it.
package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
)

// Events keeps ingested events exactly once in memory. It implements the
// ports of the ingest service (Append, Link, Resolve, Categories).
// The zero value is empty and ready to use; it is safe for
// concurrent use.
type Events struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retention is how long event records and history stay (their TTL);
	// schema.Retention when 0.
	Retention time.Duration

	mu sync.Mutex
	// history holds each owner's history by events.HistoryKey: the
	// owner's de-duplication record.
	history map[events.Owner]map[string]record
	aggs    map[events.Owner]*customers.Aggregates
	// aliases maps a linked anonymous id to its customer.
	aliases map[string]string
	// erased holds the tombstones of erased customers.
	erased map[string]bool
	// items holds the catalogue's top category of each item.
	items map[string]string
}

// record is a stored event with its content hash and TTL (Unix seconds,
// as DynamoDB keeps it).
type record struct {
	event     events.Event
	hash      string
	expiresAt int64
}

// init makes the maps; callers hold mu.
func (s *Events) init() {
	if s.history != nil {
		return
	}
	s.history = map[events.Owner]map[string]record{}
	s.aggs = map[events.Owner]*customers.Aggregates{}
	s.aliases = map[string]string{}
	s.erased = map[string]bool{}
	s.items = map[string]string{}
}

func (s *Events) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Events) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return schema.Retention
}

// ownerKey names an owner in errors and cursors as the DynamoDB adapter
// keys it.
func ownerKey(o events.Owner) string {
	if o.Anonymous() {
		return schema.PfxAnon + o.AnonymousID
	}
	return schema.PfxCustomer + o.CustomerID
}

// erasedError is what writing to an erased customer fails with.
func erasedError(pk string) error {
	return &errs.Error{Op: "write events of " + pk, Kind: errs.Conflict, Err: customers.ErrErased,
		Detail: "the customer was erased; events for it are refused"}
}

// settled is the status of e when the owner's history holds an event with
// its id and time: Duplicate for the same content, Rejected for another.
func (s *Events) settled(owner events.Owner, e events.Event) (events.Status, bool) {
	r, ok := s.history[owner][events.HistoryKey(e)]
	switch {
	case !ok:
		return "", false
	case r.hash == e.Hash():
		return events.Duplicate, true
	}
	return events.Rejected, true
}

// Append stores evs, all belonging to owner, exactly once and folds the
// new ones into the owner's aggregates, in one step. It returns a status
// per event: Accepted, Duplicate (its id was stored before with the same
// content: nothing changed) or Rejected (its id was stored before with
// other content). An erased customer's events are refused with a Conflict
// error wrapping customers.ErrErased and no status. For an anonymous owner
// already linked to a customer nothing is applied: the error wraps
// events.ErrOwnerChanged and only the events stored before have a status.
func (s *Events) Append(ctx context.Context, owner events.Owner, evs []events.Event) ([]events.Status, error) {
	status := make([]events.Status, len(evs))
	pk := ownerKey(owner)
	if err := ctx.Err(); err != nil {
		return status, fmt.Errorf("append events of %s: %w", pk, err)
	}
	defer s.lock()()
	if !owner.Anonymous() && s.erased[owner.CustomerID] {
		return status, fmt.Errorf("append events of %s: %w", pk, erasedError(pk))
	}
	if _, linked := s.aliases[owner.AnonymousID]; owner.Anonymous() && linked {
		// The visitor's history moved under the customer with the login:
		// nothing is known here, and the caller goes to the customer.
		return status, fmt.Errorf("append events of %s: %w", pk, events.ErrOwnerChanged)
	}
	agg := s.aggs[owner]
	if agg == nil {
		agg = customers.NewAggregates()
	}
	expires := s.now().Add(s.retention()).Unix()
	accepted := false
	for i, e := range evs {
		if st, ok := s.settled(owner, e); ok {
			status[i] = st
			continue
		}
		if e.NPS != nil { // stored by value, as DynamoDB would
			n := *e.NPS
			e.NPS = &n
		}
		r := record{event: e, hash: e.Hash(), expiresAt: expires}
		if s.history[owner] == nil {
			s.history[owner] = map[string]record{}
		}
		s.history[owner][events.HistoryKey(e)] = r
		agg.Apply(e)
		status[i], accepted = events.Accepted, true
	}
	if accepted {
		s.aggs[owner] = agg
	}
	return status, nil
}

// lock takes the mutex and makes the maps; defer the function it returns.
func (s *Events) lock() func() {
	s.mu.Lock()
	s.init()
	return s.mu.Unlock
}

// find answers a batch look-up: the value get finds for each key, with
// the keys it does not find absent.
func (s *Events) find(ctx context.Context, keys []string, get func(key string) (string, bool)) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer s.lock()()
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := get(k); ok {
			out[k] = v
		}
	}
	return out, nil
}

// Categories returns the top category of each known item; unknown items
// and items without a category are absent.
func (s *Events) Categories(ctx context.Context, itemIDs []string) (map[string]string, error) {
	return s.find(ctx, itemIDs, func(id string) (string, bool) { return s.items[id], s.items[id] != "" })
}

// SetCategory records the catalogue's top category of an item, as the
// catalogue's items table would hold it ("" for an item without one).
func (s *Events) SetCategory(itemID, category string) {
	defer s.lock()()
	s.items[itemID] = category
}

// DeleteItem forgets an item, as the catalogue's delete leaves it: a
// tombstone that Categories treats as absent.
func (s *Events) DeleteItem(itemID string) {
	defer s.lock()()
	delete(s.items, itemID)
}

// Resolve returns the customer each linked anonymous id belongs to;
// unlinked ids are absent.
func (s *Events) Resolve(ctx context.Context, anonIDs []string) (map[string]string, error) {
	return s.find(ctx, anonIDs, func(a string) (string, bool) {
		c, ok := s.aliases[a]
		return c, ok
	})
}

// Link merges the anonymous visitor anonID into customerID exactly once:
// the visitor's aggregates are added to the customer's and removed, its
// history moves under the customer, and the alias is recorded, in one
// step. A visitor already linked stays with its first customer: Link then
// returns that customer's id and changes nothing. Linking to an erased
// customer fails with a Conflict error wrapping customers.ErrErased.
func (s *Events) Link(ctx context.Context, anonID, customerID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	defer s.lock()()
	if c, ok := s.aliases[anonID]; ok {
		return c, nil
	}
	cust, anon := events.Owner{CustomerID: customerID}, events.Owner{AnonymousID: anonID}
	if s.erased[customerID] {
		return "", erasedError(ownerKey(cust))
	}
	merged := customers.NewAggregates()
	if a := s.aggs[cust]; a != nil {
		merged = a.Clone()
	}
	merged.Merge(s.aggs[anon])
	s.aggs[cust] = merged
	delete(s.aggs, anon)
	for k, r := range s.history[anon] {
		if s.history[cust] == nil {
			s.history[cust] = map[string]record{}
		}
		s.history[cust][k] = r
	}
	delete(s.history, anon)
	s.aliases[anonID] = customerID
	return customerID, nil
}

// Aggregates returns a copy of the owner's aggregates, as the owner's
// record on the customers table holds them; nil when there are none.
func (s *Events) Aggregates(owner events.Owner) *customers.Aggregates {
	defer s.lock()()
	if a := s.aggs[owner]; a != nil {
		return a.Clone()
	}
	return nil
}

// Erase does to ingestion's data what erasing the customer does: it leaves
// a tombstone that refuses the customer's events and links from then on,
// and deletes the customer's aggregates, history (its de-duplication
// records) and the aliases linked to the customer. It returns what it
// deleted; erasing again deletes nothing more.
func (s *Events) Erase(customerID string) customers.Erasure {
	defer s.lock()()
	var n customers.Erasure
	cust := events.Owner{CustomerID: customerID}
	s.erased[customerID] = true
	delete(s.aggs, cust)
	// Each event of the history is also its de-duplication record, and
	// counts as both, as the DynamoDB adapter counts them.
	n.HistoryItems = len(s.history[cust])
	n.EventRecords = n.HistoryItems
	delete(s.history, cust)
	for _, a := range slices.Sorted(maps.Keys(s.aliases)) {
		if s.aliases[a] == customerID {
			delete(s.aliases, a)
			n.Aliases++
		}
	}
	return n
}

// ClearTombstone removes an erased customer's tombstone, so its events
// are accepted again.
func (s *Events) ClearTombstone(customerID string) {
	defer s.lock()()
	delete(s.erased, customerID)
}

// History reads the customer histories Events holds, page by page. It is
// safe for concurrent use.
type History struct {
	Events *Events
	// Now is the clock that decides what has expired; time.Now when nil.
	Now func() time.Time
}

// cursor is a page position: the owner's history partition and the key
// of the last event returned, sealed as the DynamoDB adapter seals it.
type cursor struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

// List returns one page of the customer's history, newest first: events
// of q.Type ("" for all) with q.From <= time < q.To, at most q.Limit (50
// when 0), after q.Cursor. Events whose TTL has passed are never
// returned. A full page carries the cursor of the next one, which may be
// empty; a cursor not made for this customer's history is an Invalid
// error.
func (h *History) List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error) {
	if err := ctx.Err(); err != nil {
		return events.HistoryPage{}, err
	}
	pk := schema.PfxHistory + ownerKey(events.Owner{CustomerID: customerID})
	after := ""
	if q.Cursor != "" {
		var c cursor
		if !ddb.OpenCursor(q.Cursor, &c) || c.PK != pk || !events.ValidHistoryKey(c.SK) {
			return events.HistoryPage{}, errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same customer")
		}
		after = c.SK
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	lo, hi := "", ""
	if !q.From.IsZero() {
		lo = events.SortKeyTime(q.From)
	}
	if !q.To.IsZero() {
		hi = events.SortKeyTime(q.To)
	}

	defer h.Events.lock()()
	hist := h.Events.history[events.Owner{CustomerID: customerID}]
	keys := slices.Sorted(maps.Keys(hist))
	slices.Reverse(keys)
	page := events.HistoryPage{Events: []events.Event{}}
	for _, k := range keys {
		r := hist[k]
		switch {
		case after != "" && k >= after, lo != "" && k < lo, hi != "" && k >= hi,
			r.expiresAt <= now.Unix(), q.Type != "" && r.event.Type != q.Type:
			continue
		}
		page.Events = append(page.Events, r.event)
		if len(page.Events) == q.Limit {
			page.Next = ddb.SealCursor(cursor{PK: pk, SK: k})
			break
		}
	}
	return page, nil
}
