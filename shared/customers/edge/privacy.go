package edge

import (
	"context"
	"net/http"

	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// erase serves DELETE /v1/customers/{id} (admin): it answers what the
// erasure removed and can be repeated.
func (a *API) erase(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := customerID(r)
	if err != nil {
		return nil, err
	}
	n, err := a.Service.Erase(ctx, caller(r), id)
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
	found, err := a.Service.FindByEmail(ctx, caller(r), email)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, struct {
		Customers []*customers.Customer `json:"customers"`
	}{found}), nil
}

// export serves GET /v1/customers/{id}/export (pii:read or admin).
func (a *API) export(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := customerID(r)
	if err != nil {
		return nil, err
	}
	out, err := a.Service.Export(ctx, caller(r), id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, out), nil
}

// Page sizes of the audit trail.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 500
)

// auditTrail serves GET /v1/audit?customer=&key=&from=&to=&limit=&cursor=
// (admin), newest first.
func (a *API) auditTrail(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var v errs.Validator
	q := audit.Query{Cursor: r.Query("cursor")}
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
	q.From, q.To = timeParam(&v, r, "from"), timeParam(&v, r, "to")
	q.Limit = r.Limit(&v, DefaultAuditLimit, MaxAuditLimit)
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.Service.AuditTrail(ctx, q)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, page), nil
}
