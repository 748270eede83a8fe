// Package customerapi serves /v1/customers/{id}: it decodes requests,
// applies the customer package's rules and stores the result. It holds no
// business rules of its own.
package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// Store is the storage the handlers need.
type Store interface {
	Get(ctx context.Context, customerID string) (*customers.Customer, error)
	Save(ctx context.Context, c *customers.Customer, expected int64) error
}

// MaxBody is the largest accepted request body.
const MaxBody = 16 << 10

// saveAttempts bounds retries of a read-modify-write that lost a race with
// another writer when the client sent no If-Match.
const saveAttempts = 3

// API holds the handlers' dependencies.
type API struct {
	Store Store
	Now   func() time.Time
	// History serves the event history.
	History HistoryStore
	// Privacy erases customers and lists their aliases; Audit records who
	// saw personal data and who acted as admin: every response with
	// personal data is recorded before it is sent.
	Privacy PrivacyStore
	Audit   AuditStore
}

// Register adds the routes to r. Every dependency is required, so a route
// means the same thing wherever the API is wired.
func (a *API) Register(r *apigw.Router) {
	if a.Store == nil || a.Now == nil || a.History == nil || a.Privacy == nil || a.Audit == nil {
		panic("customerapi: Store, Now, History, Privacy and Audit are all required")
	}
	r.Handle("PUT /v1/customers/{id}", a.put)
	r.Handle("GET /v1/customers/{id}", a.get)
	r.Handle("PATCH /v1/customers/{id}", a.patch)
	r.Handle("GET /v1/customers/{id}/events", a.events)
	r.Handle("DELETE /v1/customers/{id}", a.erase)
	r.Handle("GET /v1/customers", a.lookup)
	r.Handle("GET /v1/customers/{id}/export", a.export)
	r.Handle("GET /v1/audit", a.auditTrail)
}

func (a *API) get(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	c, err := a.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.answer(ctx, r, http.StatusOK, c)
}

func (a *API) put(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	var body customers.Replacement
	if err := r.DecodeJSON(&body, MaxBody); err != nil {
		return nil, err
	}
	pre, err := preconditions(r)
	if err != nil {
		return nil, err
	}
	created := false
	replace := func(cur *customers.Customer) (*customers.Customer, error) {
		created = cur == nil
		return customers.Replace(id, cur, body, a.Now().UTC())
	}
	c, err := a.modify(ctx, id, pre, true, replace)
	if errors.Is(err, customers.ErrErased) && a.Privacy != nil && r.Principal.Has(auth.Admin) {
		// Only an admin brings an erased customer back, and it is audited.
		if err := a.record(ctx, r, audit.CustomerRecreate, audit.CustomerTarget(id)); err != nil {
			return nil, err
		}
		if err := a.Privacy.ClearTombstone(ctx, id); err != nil {
			return nil, err
		}
		c, err = a.modify(ctx, id, pre, true, replace)
	}
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return a.answer(ctx, r, status, c)
}

func (a *API) patch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	var body customers.Patch
	if err := r.DecodeJSON(&body, MaxBody); err != nil {
		return nil, err
	}
	pre, err := preconditions(r)
	if err != nil {
		return nil, err
	}
	c, err := a.modify(ctx, id, pre, false, func(cur *customers.Customer) (*customers.Customer, error) {
		return customers.Apply(cur, body, a.Now().UTC())
	})
	if err != nil {
		return nil, err
	}
	return a.answer(ctx, r, http.StatusOK, c)
}

// modify runs a read-modify-write of one customer under optimistic
// concurrency. With If-Match, a changed record is the client's conflict
// (412); without it, a lost race is retried against the fresh record.
func (a *API) modify(ctx context.Context, id string, pre precondition, mayCreate bool,
	change func(cur *customers.Customer) (*customers.Customer, error)) (*customers.Customer, error) {
	for attempt := 1; ; attempt++ {
		cur, err := a.Store.Get(ctx, id)
		switch {
		case errs.Is(err, errs.NotFound) && mayCreate:
			cur = nil
		case err != nil:
			return nil, err
		}
		if err := pre.check(id, cur); err != nil {
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
		err = a.Store.Save(ctx, next, expected)
		if err == nil {
			return next, nil
		}
		if !errs.Is(err, errs.Precondition) || pre.ifMatch || pre.ifNoneMatch || attempt == saveAttempts {
			return nil, err
		}
	}
}

// precondition is what If-Match / If-None-Match ask for.
type precondition struct {
	ifMatch     bool
	version     int64
	ifNoneMatch bool
}

func preconditions(r *apigw.Request) (precondition, error) {
	var p precondition
	if v := r.Header("if-match"); v != "" {
		n, err := parseETag(v)
		if err != nil {
			return p, err
		}
		p.ifMatch, p.version = true, n
	}
	if v := r.Header("if-none-match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return p, errs.E(errs.Invalid, `If-None-Match accepts only "*"`)
		}
		p.ifNoneMatch = true
	}
	return p, nil
}

func (p precondition) check(id string, cur *customers.Customer) error {
	switch {
	case p.ifNoneMatch && cur != nil && cur.Version > 0:
		return errs.E(errs.Precondition, fmt.Sprintf("customer %s already has a profile", id))
	case p.ifMatch && (cur == nil || cur.Version != p.version):
		return errs.E(errs.Precondition, fmt.Sprintf("customer %s is not at version %d; GET it and retry", id, p.version))
	}
	return nil
}

func parseETag(v string) (int64, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, errs.E(errs.Invalid, `If-Match must be an ETag from a previous response, such as "3"`)
	}
	return n, nil
}

func withETag(resp *apigw.Response, c *customers.Customer) *apigw.Response {
	return resp.WithHeader("ETag", fmt.Sprintf(`"%d"`, c.Version))
}
