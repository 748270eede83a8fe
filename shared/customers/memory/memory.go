// Package memory is the in-memory twin of the customers DynamoDB adapter:
// Customers (records, versions, look-up by email hash) and Privacy
// (erasure with a tombstone, aliases) over one shared Table, with the
// same conditions and error kinds, which the contract suite in package
// contract proves. It serves tests and local runs; no function links it.
//
// Erasure deletes what the customers table holds. History and event
// records live with the events feature, so Erase here always reports
// zero history items and event records.
package memory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/pii"
	"tailor/shared/platform/schema"
)

// Table is the in-memory customers table: customer records and
// tombstones, aliases and link records. It is safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	records map[string]*record
	// aliases maps an anonymous id to the customer it was merged into
	// (pk=A#<anonymous_id>); links holds each customer's merged anonymous
	// ids (pk=L#<customer_id> sk=<anonymous_id>).
	aliases map[string]string
	links   map[string]map[string]bool
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{records: map[string]*record{}, aliases: map[string]string{}, links: map[string]map[string]bool{}}
}

// record is one stored customer record or tombstone.
type record struct {
	c *customers.Customer
	// versioned says a profile was written (the version attribute exists).
	versioned bool
	emailHash string
	// erasedAt marks a tombstone, which expires at expiresAt.
	erasedAt, expiresAt time.Time
}

func (r *record) erased() bool { return !r.erasedAt.IsZero() }

// Link records that identity resolution merged anonID into customerID:
// the alias and the customer's link record, as the events adapter's Link
// writes them on the customers table.
func (t *Table) Link(anonID, customerID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.aliases[anonID] = customerID
	if t.links[customerID] == nil {
		t.links[customerID] = map[string]bool{}
	}
	t.links[customerID][anonID] = true
}

// TombstoneExpiry returns when the erased customer's tombstone expires;
// false when the customer has none.
func (t *Table) TombstoneExpiry(customerID string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.records[customerID]
	if r == nil || !r.erased() {
		return time.Time{}, false
	}
	return r.expiresAt, true
}

// clone returns a deep copy of c, with Consent and Tags never nil, as the
// DynamoDB adapter decodes them.
func clone(c *customers.Customer) *customers.Customer {
	out := *c
	out.Consent = maps.Clone(c.Consent)
	if out.Consent == nil {
		out.Consent = map[string]customers.ConsentState{}
	}
	out.Tags = slices.Clone(c.Tags)
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if c.Aggregates != nil {
		out.Aggregates = c.Aggregates.Clone()
	}
	if c.Scores != nil {
		s := *c.Scores
		out.Scores = &s
	}
	out.PIIMasked = false
	return &out
}

// Customers holds customer records: the twin of the DynamoDB adapter's
// Customers.
type Customers struct {
	Table *Table
	// Index makes the email look-up hash; nil stores no hash, and
	// FindByEmail then fails.
	Index *pii.Index
}

// Get returns the customer record, or a NotFound error (wrapping
// customers.ErrErased for a tombstone).
func (s *Customers) Get(_ context.Context, customerID string) (*customers.Customer, error) {
	s.Table.mu.Lock()
	defer s.Table.mu.Unlock()
	return s.Table.get(customerID)
}

func (t *Table) get(customerID string) (*customers.Customer, error) {
	r := t.records[customerID]
	if r == nil {
		return nil, &errs.Error{Op: "get customer " + customerID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	if r.erased() {
		return nil, &errs.Error{Op: "get customer " + customerID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("customer %s was erased", customerID), Err: customers.ErrErased}
	}
	return clone(r.c), nil
}

// Save writes the profile, consent and tags of c if the stored version is
// still expected (0: no profile was ever written), keeping the record's
// aggregates, scores and creation time. A version mismatch is a
// Precondition error; a tombstone a Conflict wrapping customers.ErrErased.
func (s *Customers) Save(ctx context.Context, c *customers.Customer, expected int64) error {
	op := "save customer " + c.ID
	var hash string
	if s.Index != nil && c.Profile.Email != "" {
		var err error
		if hash, err = s.hash(ctx, c.Profile.Email); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	t := s.Table
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.records[c.ID]
	switch {
	case r != nil && r.erased():
		return &errs.Error{Op: op, Kind: errs.Conflict, Err: customers.ErrErased,
			Detail: fmt.Sprintf("customer %s was erased; only an admin key can create it again", c.ID)}
	case expected == 0 && r != nil && r.versioned, expected > 0 && (r == nil || !r.versioned || r.c.Version != expected):
		return &errs.Error{Op: op, Kind: errs.Precondition,
			Detail: fmt.Sprintf("customer %s has changed since version %d", c.ID, expected)}
	}
	next := clone(c)
	if r == nil {
		r = &record{c: &customers.Customer{ID: c.ID}}
		t.records[c.ID] = r
	}
	next.Aggregates, next.Scores = r.c.Aggregates, r.c.Scores
	if !r.c.CreatedAt.IsZero() {
		next.CreatedAt = r.c.CreatedAt
	}
	r.c, r.versioned, r.emailHash = next, true, hash
	return nil
}

// FindByEmail returns the customers whose email is email in normal form,
// found by the keyed hash, at most 20, in customer id order.
func (s *Customers) FindByEmail(ctx context.Context, email string) ([]*customers.Customer, error) {
	h, err := s.hash(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("find customers by email: %w", err)
	}
	t := s.Table
	t.mu.Lock()
	defer t.mu.Unlock()
	found := []*customers.Customer{}
	for _, id := range slices.Sorted(maps.Keys(t.records)) {
		r := t.records[id]
		if r.erased() || r.emailHash != h || pii.NormalEmail(r.c.Profile.Email) != pii.NormalEmail(email) {
			continue
		}
		found = append(found, clone(r.c))
		if len(found) == maxFound {
			break
		}
	}
	return found, nil
}

// maxFound is how many index entries one look-up reads, as in DynamoDB.
const maxFound = 20

var errNoIndex = errors.New("no index key is configured")

// hash returns the look-up hash of an email address.
func (s *Customers) hash(ctx context.Context, email string) (string, error) {
	if s.Index == nil {
		return "", errNoIndex
	}
	return s.Index.Email(ctx, email)
}

// Privacy erases customers and lists their aliases: the twin of the
// DynamoDB adapter's Privacy, for what the customers table holds.
type Privacy struct {
	Table *Table
	// TombstoneTTL is how long an erased customer's tombstone lives;
	// schema.Retention when 0.
	TombstoneTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Erase replaces the customer's record with a tombstone and deletes the
// aliases that point at the customer and the customer's link records. It
// is idempotent: a second run deletes nothing more.
func (p *Privacy) Erase(_ context.Context, customerID string) (customers.Erasure, error) {
	var n customers.Erasure
	clock, ttl := p.Now, p.TombstoneTTL
	if clock == nil {
		clock = time.Now
	}
	if ttl <= 0 {
		ttl = schema.Retention
	}
	now := clock().UTC()
	t := p.Table
	t.mu.Lock()
	defer t.mu.Unlock()
	t.records[customerID] = &record{c: &customers.Customer{ID: customerID}, erasedAt: now, expiresAt: now.Add(ttl)}
	for anon := range t.links[customerID] {
		if t.aliases[anon] == customerID {
			delete(t.aliases, anon)
			n.Aliases++
		}
	}
	delete(t.links, customerID)
	return n, nil
}

// ClearTombstone removes an erased customer's tombstone; it does nothing
// to a record that is not one.
func (p *Privacy) ClearTombstone(_ context.Context, customerID string) error {
	t := p.Table
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.records[customerID]; r != nil && r.erased() {
		delete(t.records, customerID)
	}
	return nil
}

// Aliases returns the anonymous ids linked to the customer, in order.
func (p *Privacy) Aliases(_ context.Context, customerID string) ([]string, error) {
	t := p.Table
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.AppendSeq([]string{}, maps.Keys(t.links[customerID]))
	slices.Sort(out)
	return out, nil
}
