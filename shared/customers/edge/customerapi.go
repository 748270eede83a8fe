// Package edge serves /v1/customers and /v1/audit: it decodes and
// validates requests, calls the customer service and encodes its answers.
// It holds no business rules of its own.
package edge

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tailor/shared/customers"
	"tailor/shared/customers/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// MaxBody is the largest accepted request body.
const MaxBody = 16 << 10

// API holds the handlers' dependency: the customer service.
type API struct {
	Service *service.Service
}

// Register adds the routes to r. The service and every one of its
// dependencies are required, so a route means the same thing wherever the
// API is wired.
func (a *API) Register(r *apigw.Router) {
	if a.Service == nil {
		panic("customers edge: Service is required")
	}
	if err := a.Service.Check(); err != nil {
		panic(err)
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

// customerID returns the request's valid customer id.
func customerID(r *apigw.Request) (string, error) {
	id := r.PathParam("id")
	return id, customers.ValidateID(id)
}

// caller names who makes the request, for the service's audit entries.
func caller(r *apigw.Request) service.Caller {
	return service.Caller{Principal: r.Principal, RequestID: r.Event.RequestContext.RequestID}
}

// timeParam parses the optional RFC 3339 query parameter name into v's
// findings; zero when absent.
func timeParam(v *errs.Validator, r *apigw.Request, name string) time.Time {
	s := r.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	v.Check(err == nil, name, "must be RFC 3339 such as 2026-11-20T10:15:00Z")
	return t
}

func (a *API) get(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := customerID(r)
	if err != nil {
		return nil, err
	}
	c, err := a.Service.Get(ctx, caller(r), id)
	if err != nil {
		return nil, err
	}
	return withETag(apigw.JSON(http.StatusOK, c), c), nil
}

func (a *API) put(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := customerID(r)
	if err != nil {
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
	c, created, err := a.Service.Replace(ctx, caller(r), id, body, pre)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return withETag(apigw.JSON(status, c), c), nil
}

func (a *API) patch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id, err := customerID(r)
	if err != nil {
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
	c, err := a.Service.Update(ctx, caller(r), id, body, pre)
	if err != nil {
		return nil, err
	}
	return withETag(apigw.JSON(http.StatusOK, c), c), nil
}

// preconditions decodes If-Match and If-None-Match.
func preconditions(r *apigw.Request) (service.Precondition, error) {
	var p service.Precondition
	if v := r.Header("if-match"); v != "" {
		n, err := parseETag(v)
		if err != nil {
			return p, err
		}
		p.IfMatch, p.Version = true, n
	}
	if v := r.Header("if-none-match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return p, errs.E(errs.Invalid, `If-None-Match accepts only "*"`)
		}
		p.IfNoneMatch = true
	}
	return p, nil
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
