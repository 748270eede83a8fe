// Package edge serves /v1/items: single and batch upserts, reads and
// deletes of catalog items. It decodes and validates requests, calls
// package service and encodes the answers; it holds no catalog rules.
package edge

import (
	"context"
	"net/http"

	"tailor/shared/catalog"
	"tailor/shared/catalog/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// Body limits: one item, and a batch of catalog.MaxBatch items.
const (
	MaxItemBody  = 16 << 10
	MaxBatchBody = 4 << 20
)

// API holds the handlers' dependencies.
type API struct {
	Service *service.Service
}

// Register adds the routes to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("PUT /v1/items/{id}", a.put)
	r.Handle("GET /v1/items/{id}", a.get)
	r.Handle("DELETE /v1/items/{id}", a.delete)
	r.Handle("POST /v1/items:batch", a.batch)
}

func (a *API) get(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	it, err := a.Service.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return apigw.JSON(http.StatusOK, it.ToView()), nil
}

func (a *API) put(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	var in catalog.Input
	if err := r.DecodeJSON(&in, MaxItemBody); err != nil {
		return nil, err
	}
	stored, created, err := a.Service.Put(ctx, id, in)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return apigw.JSON(status, stored.ToView()), nil
}

func (a *API) delete(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	id := r.PathParam("id")
	if err := catalog.ValidateID(id); err != nil {
		return nil, err
	}
	if err := a.Service.Delete(ctx, id); err != nil {
		return nil, err
	}
	return apigw.NoContent(), nil
}

// BatchRequest is the body of POST /v1/items:batch.
type BatchRequest struct {
	Items []catalog.BatchInput `json:"items"`
}

// Outcome is what happened to one entry of a batch.
type Outcome struct {
	Index  int               `json:"index"`
	ItemID string            `json:"item_id"`
	Status string            `json:"status"` // created, updated, unchanged, rejected, failed
	Detail string            `json:"detail,omitempty"`
	Errors []errs.FieldError `json:"errors,omitempty"`
}

// BatchResponse reports every entry so a client resends only what failed.
type BatchResponse struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Unchanged counts entries stored before with the same content:
	// nothing was written for them.
	Unchanged int       `json:"unchanged"`
	Rejected  int       `json:"rejected"`
	Failed    int       `json:"failed"`
	Results   []Outcome `json:"results"`
}

// batch answers 200 with a per-entry outcome (service.Batch): invalid
// entries ("rejected") never stop valid ones; entries whose write failed
// ("failed") can be retried as they are.
func (a *API) batch(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var req BatchRequest
	if err := r.DecodeJSON(&req, MaxBatchBody); err != nil {
		return nil, err
	}
	if req.Items == nil {
		var v errs.Validator
		v.Add("items", "is required: an array of 1 to %d items", catalog.MaxBatch)
		return nil, v.Err()
	}
	res, err := a.Service.Batch(ctx, req.Items)
	if err != nil {
		return nil, err
	}
	out := BatchResponse{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Rejected: res.Rejected, Failed: res.Failed,
		Results: make([]Outcome, len(res.Outcomes))}
	for i, o := range res.Outcomes {
		out.Results[i] = Outcome{Index: o.Index, ItemID: o.ItemID, Status: string(o.Status)}
		switch o.Status {
		case service.Rejected:
			p := apigw.ProblemFor(o.Err)
			out.Results[i].Detail, out.Results[i].Errors = p.Detail, p.Errors
		case service.Failed:
			out.Results[i].Detail = "not stored; retry this entry"
		}
	}
	return apigw.JSON(http.StatusOK, out), nil
}
