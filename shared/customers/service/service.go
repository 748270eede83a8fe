// Package service is what the customer API does: the read-modify-write of
// a customer record under optimistic concurrency, the audited re-creation
// of an erased customer, look-up by email, erasure, export assembly and
// the audit trail, each recording in the audit log what the caller saw or
// did. It reaches storage only through the ports declared here, in the
// customers, events and audit domain types; decoding requests and
// encoding answers are the edge's.
package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// Records stores customer records. Implementations must be safe for
// concurrent use.
type Records interface {
	// Get returns the customer record: a NotFound error when there is
	// none, one that also wraps customers.ErrErased for an erased
	// customer's tombstone.
	Get(ctx context.Context, customerID string) (*customers.Customer, error)
	// Save writes the profile, consent and tags of c if the stored version
	// is still expected (0: no profile was ever written), leaving the rest
	// of the record alone. A version mismatch is a Precondition error; a
	// tombstone is a Conflict error wrapping customers.ErrErased.
	Save(ctx context.Context, c *customers.Customer, expected int64) error
	// FindByEmail returns the customers whose email is email, compared in
	// normal form (pii.NormalEmail).
	FindByEmail(ctx context.Context, email string) ([]*customers.Customer, error)
}

// Privacy erases customers and lists what links to them. Implementations
// must be safe for concurrent use.
type Privacy interface {
	// Erase removes everything about the customer and leaves a tombstone;
	// it is idempotent and finishes an erasure a crash interrupted.
	Erase(ctx context.Context, customerID string) (customers.Erasure, error)
	// ClearTombstone removes an erased customer's tombstone; it does
	// nothing to a record that is not one.
	ClearTombstone(ctx context.Context, customerID string) error
	// Aliases lists the anonymous ids linked to the customer.
	Aliases(ctx context.Context, customerID string) ([]string, error)
}

// Memberships reads and deletes the customer's campaign audience
// memberships, which the campaigns feature stores. Implementations must be
// safe for concurrent use.
type Memberships interface {
	// List returns every campaign membership of the customer, in campaign
	// id order; none is an empty list, not an error.
	List(ctx context.Context, customerID string) ([]customers.CampaignMembership, error)
	// Erase deletes every campaign membership of the customer and returns
	// how many it deleted; it is idempotent (0 the second time).
	Erase(ctx context.Context, customerID string) (int, error)
}

// AuditLog appends and lists audit entries. Implementations must be safe
// for concurrent use.
type AuditLog interface {
	// Record appends e; recording the same entry twice keeps the first.
	Record(ctx context.Context, e audit.Entry) error
	// List returns one page of entries, newest first.
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}

// History reads a customer's event history. Implementations must be safe
// for concurrent use.
type History interface {
	// List returns one page of the customer's history, newest first,
	// without events whose retention has passed.
	List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error)
}

// Service runs the customer API's requests. Every field is required.
type Service struct {
	Records Records
	Privacy Privacy
	Audit   AuditLog
	History History
	// Memberships are the customer's campaign audience memberships.
	Memberships Memberships
	// Now is the clock of record changes and audit entries.
	Now func() time.Time
}

// Check reports which dependencies are missing, so a service is refused
// when it is wired rather than on the first request that needs one.
func (s *Service) Check() error {
	var missing []error
	for _, d := range []struct {
		name string
		ok   bool
	}{{"Records", s.Records != nil}, {"Privacy", s.Privacy != nil}, {"Audit", s.Audit != nil},
		{"History", s.History != nil}, {"Memberships", s.Memberships != nil}, {"Now", s.Now != nil}} {
		if !d.ok {
			missing = append(missing, fmt.Errorf("customer service: %s is required", d.name))
		}
	}
	return errors.Join(missing...)
}

// Caller is who makes a request: the API key and the request id its audit
// entries carry.
type Caller struct {
	Principal auth.Principal
	RequestID string
}

// Precondition is what a client asked of the stored version: IfMatch
// with the Version it last saw, or IfNoneMatch (create only).
type Precondition struct {
	IfMatch     bool
	Version     int64
	IfNoneMatch bool
}

// check returns a Precondition error when cur (nil: no record) does not
// meet p.
func (p Precondition) check(customerID string, cur *customers.Customer) error {
	switch {
	case p.IfNoneMatch && cur != nil && cur.Version > 0:
		return errs.E(errs.Precondition, fmt.Sprintf("customer %s already has a profile", customerID))
	case p.IfMatch && (cur == nil || cur.Version != p.Version):
		return errs.E(errs.Precondition, fmt.Sprintf("customer %s is not at version %d; GET it and retry", customerID, p.Version))
	}
	return nil
}

// conditional reports whether the client pinned the version, so that a
// lost race is the client's to resolve rather than retried.
func (p Precondition) conditional() bool { return p.IfMatch || p.IfNoneMatch }

// SaveAttempts bounds the tries of a read-modify-write that keeps losing
// races with other writers when the client sent no precondition.
const SaveAttempts = 3

func (s *Service) now() time.Time { return s.Now().UTC() }

// record appends an audit entry of the caller's.
func (s *Service) record(ctx context.Context, who Caller, action audit.Action, customerID string) error {
	return s.Audit.Record(ctx, audit.Entry{At: s.now(), KeyID: who.Principal.KeyID, Action: action,
		Target: audit.CustomerTarget(customerID), RequestID: who.RequestID})
}

// view is c as the caller may see it: whole for keys with pii:read, the
// access recorded first when c holds personal data; masked for others.
func (s *Service) view(ctx context.Context, who Caller, c *customers.Customer) (*customers.Customer, error) {
	if !who.Principal.Has(auth.PIIRead) {
		return c.Masked(), nil
	}
	if c.Profile.HasPersonal() {
		if err := s.record(ctx, who, audit.PIIRead, c.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Get returns the customer as the caller may see it.
func (s *Service) Get(ctx context.Context, who Caller, customerID string) (*customers.Customer, error) {
	c, err := s.Records.Get(ctx, customerID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, who, c)
}

// Replace replaces the customer's profile, consent and tags, creating the
// record when there is none (created reports it). An erased customer
// stays erased unless the caller is an admin: the re-creation is recorded
// in the audit log before the tombstone is cleared.
func (s *Service) Replace(ctx context.Context, who Caller, customerID string, r customers.Replacement, pre Precondition) (c *customers.Customer, created bool, err error) {
	replace := func(cur *customers.Customer) (*customers.Customer, error) {
		created = cur == nil
		return customers.Replace(customerID, cur, r, s.now())
	}
	c, err = s.modify(ctx, customerID, pre, true, replace)
	if errors.Is(err, customers.ErrErased) && who.Principal.Has(auth.Admin) {
		if err := s.record(ctx, who, audit.CustomerRecreate, customerID); err != nil {
			return nil, false, err
		}
		if err := s.Privacy.ClearTombstone(ctx, customerID); err != nil {
			return nil, false, err
		}
		c, err = s.modify(ctx, customerID, pre, true, replace)
	}
	if err != nil {
		return nil, false, err
	}
	c, err = s.view(ctx, who, c)
	return c, created, err
}

// Update applies a patch to an existing customer.
func (s *Service) Update(ctx context.Context, who Caller, customerID string, p customers.Patch, pre Precondition) (*customers.Customer, error) {
	c, err := s.modify(ctx, customerID, pre, false, func(cur *customers.Customer) (*customers.Customer, error) {
		return customers.Apply(cur, p, s.now())
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, who, c)
}

// modify runs a read-modify-write of one customer under optimistic
// concurrency. With a precondition, a changed record is the client's
// conflict; without one, a lost race is retried against the fresh record,
// at most SaveAttempts times in all.
func (s *Service) modify(ctx context.Context, customerID string, pre Precondition, mayCreate bool,
	change func(cur *customers.Customer) (*customers.Customer, error)) (*customers.Customer, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.Records.Get(ctx, customerID)
		switch {
		case errs.Is(err, errs.NotFound) && mayCreate:
			cur = nil
		case err != nil:
			return nil, err
		}
		if err := pre.check(customerID, cur); err != nil {
			return nil, err
		}
		next, err := change(cur)
		if err != nil {
			return nil, err
		}
		var expected int64
		if cur != nil {
			expected = cur.Version
		}
		err = s.Records.Save(ctx, next, expected)
		if err == nil {
			return next, nil
		}
		if !errs.Is(err, errs.Precondition) || pre.conditional() || attempt == SaveAttempts {
			return nil, err
		}
	}
}

// Events returns one page of the customer's event history. Free text
// (properties, query, a feedback comment) may hold personal data: keys
// without pii:read get events without it, and a page that shows some is
// audited.
func (s *Service) Events(ctx context.Context, who Caller, customerID string, q events.HistoryQuery) (events.HistoryPage, error) {
	page, err := s.History.List(ctx, customerID, q)
	if err != nil {
		return events.HistoryPage{}, err
	}
	reader, shown := who.Principal.Has(auth.PIIRead), false
	for i, e := range page.Events {
		if !reader {
			page.Events[i] = e.WithoutFreeText()
		}
		shown = shown || page.Events[i].HasFreeText()
	}
	if shown {
		if err := s.record(ctx, who, audit.PIIRead, customerID); err != nil {
			return events.HistoryPage{}, err
		}
	}
	return page, nil
}

// Erase erases the customer: the record (leaving a tombstone, so no
// later launch picks the customer), history and aliases, then the
// customer's campaign memberships. The erasure is recorded first, so that
// even one that fails half way is in the trail; both steps are idempotent,
// so a retry finishes it.
func (s *Service) Erase(ctx context.Context, who Caller, customerID string) (customers.Erasure, error) {
	if err := s.record(ctx, who, audit.CustomerErase, customerID); err != nil {
		return customers.Erasure{}, err
	}
	out, err := s.Privacy.Erase(ctx, customerID)
	if err != nil {
		return customers.Erasure{}, err
	}
	if out.CampaignMemberships, err = s.Memberships.Erase(ctx, customerID); err != nil {
		return customers.Erasure{}, err
	}
	return out, nil
}

// FindByEmail returns the customers with the email address, whole:
// searching by an address is a use of personal data, and each customer
// found is recorded in the audit log.
func (s *Service) FindByEmail(ctx context.Context, who Caller, email string) ([]*customers.Customer, error) {
	found, err := s.Records.FindByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	for _, c := range found {
		if err := s.record(ctx, who, audit.CustomerLookup, c.ID); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// AuditTrail returns one page of the audit trail.
func (s *Service) AuditTrail(ctx context.Context, q audit.Query) (audit.Page, error) {
	return s.Audit.List(ctx, q)
}
