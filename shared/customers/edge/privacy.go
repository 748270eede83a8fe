package edge

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// PrivacyStore erases customers and lists their aliases.
type PrivacyStore interface {
	// Erase removes everything about the customer and leaves a tombstone;
	// it is idempotent and finishes an erasure a crash interrupted.
	Erase(ctx context.Context, customerID string) (customers.Erasure, error)
	// ClearTombstone removes an erased customer's tombstone.
	ClearTombstone(ctx context.Context, customerID string) error
	// Aliases lists the anonymous ids linked to the customer.
	Aliases(ctx context.Context, customerID string) ([]string, error)
	// FindByEmail returns the customers with the email address.
	FindByEmail(ctx context.Context, email string) ([]*customers.Customer, error)
}

// AuditStore appends and lists audit entries.
type AuditStore interface {
	Record(ctx context.Context, e audit.Entry) error
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}

// Export is the body of GET /v1/customers/{id}/export: everything held
// about the customer.
type Export struct {
	Customer   *customers.Customer `json:"customer"`
	Events     []events.Record     `json:"events"`
	Aliases    []string            `json:"anonymous_ids"`
	Audit      []audit.Entry       `json:"audit"`
	ExportedAt time.Time           `json:"exported_at"`
}

// Limits of an export; a customer beyond them is exported in part and the
// response says so by a 413 rather than silently truncating.
const (
	maxExportEvents = 20000
	maxExportAudit  = 5000
)

// answer sends a customer record: decrypted for keys with pii:read (after
// recording the access), masked for others.
func (a *API) answer(ctx context.Context, r *apigw.Request, status int, c *customers.Customer) (*apigw.Response, error) {
	if !r.Principal.Has(auth.PIIRead) {
		return withETag(apigw.JSON(status, c.Masked()), c), nil
	}
	if c.Profile.HasPersonal() {
		if err := a.record(ctx, r, audit.PIIRead, audit.CustomerTarget(c.ID)); err != nil {
			return nil, err
		}
	}
	return withETag(apigw.JSON(status, c), c), nil
}

// record appends an audit entry for this request. With no audit store
// (handler tests predating it) nothing is recorded.
func (a *API) record(ctx context.Context, r *apigw.Request, action audit.Action, target string) error {
	if a.Audit == nil {
		return nil
	}
	return a.Audit.Record(ctx, audit.Entry{At: a.Now().UTC(), KeyID: r.Principal.KeyID, Action: action,
		Target: target, RequestID: r.Event.RequestContext.RequestID})
}

// erase serves DELETE /v1/customers/{id} (admin): the erasure, recorded
// first so that even an erasure that fails half way is in the trail.
func (a *API) erase(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	if err := a.record(ctx, r, audit.CustomerErase, audit.CustomerTarget(id)); err != nil {
		return nil, err
	}
	n, err := a.Privacy.Erase(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, struct {
		CustomerID string            `json:"customer_id"`
		Erased     customers.Erasure `json:"erased"`
	}{id, n}), nil
}

// lookup serves GET /v1/customers?email= (pii:read: searching by an
// address is a use of personal data, and the answer is decrypted).
func (a *API) lookup(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	email := r.Query("email")
	var v errs.Validator
	v.Check(email != "" && len(email) <= customers.MaxEmailLen, "email", "is required: an email address of at most %d characters", customers.MaxEmailLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	found, err := a.Privacy.FindByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	for _, c := range found {
		if err := a.record(ctx, r, audit.CustomerLookup, audit.CustomerTarget(c.ID)); err != nil {
			return nil, err
		}
	}
	return apigw.JSON(http.StatusOK, struct {
		Customers []*customers.Customer `json:"customers"`
	}{found}), nil
}

// export serves GET /v1/customers/{id}/export (pii:read or admin).
func (a *API) export(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := customers.ValidateID(id); err != nil {
		return nil, err
	}
	c, err := a.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.record(ctx, r, audit.CustomerExport, audit.CustomerTarget(id)); err != nil {
		return nil, err
	}
	out := Export{Customer: c, Events: []events.Record{}, ExportedAt: a.Now().UTC()}
	if a.History != nil {
		q := events.HistoryQuery{Limit: MaxHistoryLimit}
		for {
			page, err := a.History.List(ctx, id, q)
			if err != nil {
				return nil, err
			}
			for _, e := range page.Events {
				out.Events = append(out.Events, e.ToRecord())
			}
			if page.Next == "" {
				break
			}
			if len(out.Events) >= maxExportEvents {
				return nil, errs.E(errs.TooLarge, "the customer has more than "+strconv.Itoa(maxExportEvents)+" events; export them with GET /v1/customers/{id}/events")
			}
			q.Cursor = page.Next
		}
	}
	if out.Aliases, err = a.Privacy.Aliases(ctx, id); err != nil {
		return nil, err
	}
	out.Audit = []audit.Entry{}
	q := audit.Query{Target: audit.CustomerTarget(id), Limit: 500}
	for {
		page, err := a.Audit.List(ctx, q)
		if err != nil {
			return nil, err
		}
		out.Audit = append(out.Audit, page.Entries...)
		if page.Next == "" || len(out.Audit) >= maxExportAudit {
			break
		}
		q.Cursor = page.Next
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// auditTrail serves GET /v1/audit?customer=&key=&from=&to=&limit=&cursor=
// (admin), newest first.
func (a *API) auditTrail(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var v errs.Validator
	q := audit.Query{Limit: 50, Cursor: r.Query("cursor")}
	cust, key := r.Query("customer"), r.Query("key")
	switch {
	case cust != "" && key != "":
		v.Add("customer", "give customer or key, not both")
	case cust != "":
		v.Check(customers.ValidateID(cust) == nil, "customer", "must be a customer id")
		q.Target = audit.CustomerTarget(cust)
	case key != "":
		v.Check(auth.ValidKeyID(key) || key == audit.Operator, "key", "must be a key id or %q", audit.Operator)
		q.KeyID = key
	default:
		v.Add("customer", "give customer=<id> or key=<key id>: the trail is read by target or by key, never whole")
	}
	parseTime := func(name string) time.Time {
		s := r.Query(name)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		v.Check(err == nil, name, "must be RFC 3339 such as 2026-11-20T10:15:00Z")
		return t
	}
	q.From, q.To = parseTime("from"), parseTime("to")
	if s := r.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		v.Check(err == nil && n >= 1 && n <= 500, "limit", "must be 1 to 500")
		q.Limit = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.Audit.List(ctx, q)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}
